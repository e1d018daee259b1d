import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { useTarget } from "../../client/test/support/target.js";
import { type Background, background } from "../../lock/test/support/background.js";
import { until } from "../../lock/test/support/env.js";
import { deregisterOnSignals } from "../src/index.js";
import { exitOf } from "./support/exit.js";

const env = useTarget();
const child = fileURLToPath(new URL("./support/signal-child.mjs", import.meta.url));
const started: Background[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop("SIGKILL")));
});

/** Starts a registered child process (lease TTL 30 s) and waits until its key is written. */
async function registeredChild(
  id: string,
  drainMs: number,
  hook = "",
): Promise<{ p: Background; key: string }> {
  const p = background(process.execPath, [
    child,
    env.target.endpoints[0] as string,
    "sig",
    id,
    String(drainMs),
    hook,
  ]);
  started.push(p);
  const line = await p.waitLine((l) => l.startsWith("registered "));
  return { p, key: line.slice("registered ".length) };
}

describe("deregisterOnSignals", () => {
  it("SIGTERM: the key is gone at once (not after the 30 s TTL) and the process dies of SIGTERM", async () => {
    const { p, key } = await registeredChild("t1", 0);
    expect(await env.client.get(key)).toBeDefined();
    const sent = Date.now();
    p.child.kill("SIGTERM");
    expect(await exitOf(p)).toEqual({ code: null, signal: "SIGTERM" });
    expect(await env.client.get(key)).toBeUndefined();
    expect(Date.now() - sent).toBeLessThan(5_000);
  });

  it("SIGINT with drainMs: draining first, revoked after the drain time", async () => {
    const { p, key } = await registeredChild("t2", 800);
    const seen: { status: string | undefined; at: number }[] = [];
    const stop = new AbortController();
    const watching = (async () => {
      for await (const event of await env.client.watch(key, { signal: stop.signal }))
        seen.push({
          status: event.type === "put" ? event.kv.json<{ status: string }>().status : undefined,
          at: Date.now(),
        });
    })().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the watch is open
    p.child.kill("SIGINT");
    expect(await exitOf(p)).toEqual({ code: null, signal: "SIGINT" });
    await until(() => seen.length === 2, 5_000, "draining then deleted");
    stop.abort();
    await watching;
    expect(seen.map((s) => s.status)).toEqual(["draining", undefined]);
    expect((seen[1]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(700);
  });

  it("onDeregistered replaces the re-raise: the hook decides how the process exits", async () => {
    const { p, key } = await registeredChild("t3", 0, "hook");
    p.child.kill("SIGTERM");
    expect(await exitOf(p)).toEqual({ code: 0, signal: null });
    expect(p.lines).toContain("deregistered on SIGTERM");
    expect(await env.client.get(key)).toBeUndefined();
  });

  it("refuses bad options before installing anything", () => {
    const before = process.listenerCount("SIGTERM");
    expect(() => deregisterOnSignals([], { drainMs: -1 })).toThrow(/drainMs/);
    expect(() => deregisterOnSignals([], { signals: ["TERM" as NodeJS.Signals] })).toThrow(/signals/);
    expect(process.listenerCount("SIGTERM")).toBe(before);
    const handlers = deregisterOnSignals([]);
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    handlers.remove();
    expect(process.listenerCount("SIGTERM")).toBe(before);
  });
});
