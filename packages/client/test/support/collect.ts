import type { WatchEvent, Watcher } from "../../src/index.js";

/** Reads `count` events from a watcher, failing after `timeoutMs`. */
export async function take(watcher: Watcher, count: number, timeoutMs = 10_000): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  if (count === 0) return events;
  const iterator = watcher[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (events.length < count) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${events.length}/${count} events`)),
        Math.max(1, deadline - Date.now()),
      );
    });
    const next = await Promise.race([iterator.next(), timeout]).finally(() => clearTimeout(timer));
    if (next.done === true) throw new Error(`watcher ended after ${events.length}/${count} events`);
    events.push(next.value);
  }
  return events;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Fetches one gauge of a server's Prometheus metrics (etcd names; Keyway uses the same ones). */
export async function metric(endpoint: string, name: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`metric ${name} not found at ${endpoint}`);
  return Number(line.split(" ")[1]);
}

/**
 * Streams of a gRPC method the server is serving now, from its Prometheus counters (started
 * minus handled, over every status code). etcd exports these for every method.
 */
export async function openStreams(endpoint: string, method: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  let open = 0;
  for (const line of text.split("\n")) {
    if (!line.includes(`grpc_method="${method}"`)) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith("grpc_server_started_total{")) open += value;
    else if (line.startsWith("grpc_server_handled_total{")) open -= value;
  }
  return open;
}
