import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startTcpProxy } from "../../client/test/support/tcp-proxy.js";
import { type Background, background } from "./support/background.js";
import { sleep, until, useTarget } from "./support/env.js";

const env = useTarget();
const WORKER = fileURLToPath(new URL("./support/locker-worker.mjs", import.meta.url));
/** Replay a failure with LOCK_TEST_SEED=<seed printed in the test name>. */
const SEED = Number(process.env.LOCK_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TTL_SECONDS = 2;
const WORKERS = 4;
const ITERATIONS = 3;

interface WorkerEvent {
  id: number;
  ev: "acquired" | "write" | "released" | "lost" | "wait-failed" | "done";
  token?: string;
  ok?: boolean;
}

const events = (p: Background): WorkerEvent[] => p.lines.map((l) => JSON.parse(l) as WorkerEvent);

describe("safety under faults across processes", () => {
  it(`kill -9 and a stalled holder: fenced writes never interleave, every live waiter acquires (seed ${SEED})`, async () => {
    let state = SEED;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const endpoint = env.target.endpoints[0] as string;
    const proxy = await startTcpProxy(endpoint);
    const victim = 1 + Math.floor(random() * (WORKERS - 1)); // killed with -9 while holding
    const workers = Array.from({ length: WORKERS }, (_, id) =>
      background(process.execPath, [WORKER], {
        WORKER: JSON.stringify({
          // Worker 0 reaches the server through the proxy, which will stall while it holds.
          endpoint: id === 0 ? proxy.url : endpoint,
          name: "safety/lock",
          resource: "safety/resource",
          id,
          iterations: ITERATIONS,
          ttlSeconds: TTL_SECONDS,
          seed: Math.floor(random() * 2 ** 31),
          holdMs: [30, 120],
        }),
      }),
    );
    try {
      const acquired = (id: number) => events(workers[id]!).some((e) => e.ev === "acquired");
      const faults = [
        (async () => {
          await until(() => acquired(0), 30_000, "worker 0 acquires");
          proxy.setBlackhole(true); // stalled holder: its lease expires, others go on
          await sleep(TTL_SECONDS * 1000 + 1_500);
          proxy.setBlackhole(false);
          // The partition heals: connections that hung in it are reset, as a real network does
          // eventually (grpc-js would otherwise wait on them for its own long connect timeout).
          proxy.cut();
        })(),
        (async () => {
          await until(() => acquired(victim), 30_000, `worker ${victim} acquires`);
          await workers[victim]!.stop("SIGKILL");
        })(),
      ];
      await Promise.all(faults);
      const live = workers.filter((_, id) => id !== victim);
      await until(
        () => live.every((w) => events(w).some((e) => e.ev === "done")),
        45_000,
        "every live worker done",
      ).catch((err: Error) => {
        throw new Error(
          `${err.message}; seed ${SEED}; workers ${JSON.stringify(workers.map((w) => w.lines))}`,
        );
      });
    } finally {
      await Promise.all(workers.map((w) => w.stop("SIGKILL")));
      await proxy.close();
    }

    // The resource's whole history, in revision order.
    const last = await env.client.get("safety/resource");
    const history: { id: number; token: bigint; n: number }[] = [];
    const watcher = await env.client.watch("safety/resource", { startRevision: 1n });
    for await (const event of watcher) {
      const v = JSON.parse(event.kv.text()) as { id: number; token: string; n: number };
      history.push({ ...v, token: BigInt(v.token) });
      if (event.kv.modRevision >= (last?.modRevision ?? 0n)) break;
    }
    const all = workers.flatMap(events);
    const context = `seed ${SEED}, history ${JSON.stringify(history, (_, v) => (typeof v === "bigint" ? `${v}` : v))}`;
    // No accepted write ever comes from a holder older than one that already wrote.
    for (let i = 1; i < history.length; i++)
      expect(history[i]!.token >= history[i - 1]!.token, context).toBe(true);
    // Every write a live worker saw accepted is in the history; the stalled holder's late write was refused.
    const accepted = all.filter((e) => (e.ev === "acquired" || e.ev === "write") && e.ok === true);
    expect(history.length, context).toBeGreaterThanOrEqual(accepted.length);
    const stalled = events(workers[0]!);
    expect(
      stalled.some((e) => e.ev === "write" && e.ok === false),
      context,
    ).toBe(true);
    expect(
      stalled.some((e) => e.ev === "lost"),
      context,
    ).toBe(true);
    // Every live worker completed all its turns.
    for (const [id, w] of workers.entries()) {
      if (id === victim) continue;
      expect(events(w).filter((e) => e.ev === "acquired").length, `worker ${id}; ${context}`).toBe(
        ITERATIONS,
      );
    }
  });
});
