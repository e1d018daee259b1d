import { describe, expect, it } from "vitest";
import { type LockHold, locks } from "../src/index.js";
import { keysUnder, sleep, useSessions, useTarget } from "./support/env.js";

const env = useTarget();
const session = useSessions(() => env.client);

/** Records, for each labelled acquisition, when it acquired; resolves with the holds. */
function track(label: string, order: string[], pending: Promise<LockHold>): Promise<LockHold> {
  return pending.then((hold) => {
    order.push(label);
    return hold;
  });
}

describe("rw mutex", () => {
  it("readers share, a writer waits for them, and a queued writer holds back later readers", async () => {
    const [a, b] = [await session(), await session()];
    const rwA = locks(env.client).rwMutex("rw/a", { session: a });
    const rwB = locks(env.client).rwMutex("rw/a", { session: b });
    const order: string[] = [];
    const r1 = await rwA.rLock();
    const r2 = await rwB.rLock(); // shared, even across sessions
    const w = track("w", order, rwB.lock());
    await sleep(100);
    const r3 = track("r3", order, rwA.rLock());
    await sleep(100);
    expect(order).toEqual([]);
    await expect(rwA.tryRLock()).rejects.toMatchObject({ reason: "locked" });
    await r1.unlock();
    await r2.unlock();
    const wHold = await w;
    await sleep(100);
    expect(order).toEqual(["w"]);
    expect(wHold.key.toString()).toMatch(new RegExp(`^rw/a/write/${b.leaseId.toString(16)}/`));
    await wHold.unlock();
    const r3Hold = await r3;
    expect(order).toEqual(["w", "r3"]);
    expect(r3Hold.fencingToken).toBeGreaterThan(wHold.fencingToken);
    await r3Hold.unlock();
    expect(await keysUnder(env.client, "rw/a/")).toBe(0);
  });

  it("a timed-out writer removes its key and unblocks the readers behind it", async () => {
    const s = await session();
    const rw = locks(env.client).rwMutex("rw/b", { session: s });
    const reader = await rw.rLock();
    const writer = rw.lock({ timeoutMs: 300 });
    await sleep(50);
    const laterReader = rw.rLock();
    await expect(writer).rejects.toMatchObject({ reason: "timeout" });
    const second = await laterReader;
    await second.unlock();
    await reader.unlock();
    expect(await keysUnder(env.client, "rw/b/")).toBe(0);
  });
});

describe("semaphore", () => {
  it("admits `permits` holders at once and hands permits out in queue order", async () => {
    const s = await session();
    const lock = locks(env.client);
    const sem = lock.semaphore("sem/a", { session: s, permits: 2 });
    const order: string[] = [];
    const h1 = await sem.acquire();
    const h2 = await sem.acquire();
    const h3 = track("3", order, sem.acquire());
    await sleep(50);
    const h4 = track("4", order, sem.acquire());
    await sleep(100);
    expect(order).toEqual([]);
    await expect(sem.tryAcquire()).rejects.toMatchObject({ reason: "locked" });
    await h2.unlock();
    const third = await h3;
    await sleep(100);
    expect(order).toEqual(["3"]);
    await h1.unlock();
    const fourth = await h4;
    expect(order).toEqual(["3", "4"]);
    await third.unlock();
    await fourth.unlock();
    expect(await keysUnder(env.client, "sem/a/")).toBe(0);
  });

  it("withPermit runs under a permit; bad permits are refused", async () => {
    const s = await session();
    const lock = locks(env.client);
    let inside = 0;
    let maxInside = 0;
    const sem = lock.semaphore("sem/b", { session: s, permits: 3 });
    await Promise.all(
      Array.from({ length: 8 }, () =>
        sem.withPermit(async () => {
          maxInside = Math.max(maxInside, ++inside);
          await sleep(40);
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(3);
    for (const permits of [0, 1.5, -1, 10_001])
      expect(() => lock.semaphore("sem/c", { session: s, permits })).toThrow(
        expect.objectContaining({ reason: "badRequest" }),
      );
  });
});
