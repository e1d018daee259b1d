import { compare, op } from "@keyway/client";
import { describe, expect, it } from "vitest";
import { LockError, locks } from "../src/index.js";
import { keysUnder, sleep, until, useSessions, useTarget } from "./support/env.js";

const env = useTarget();
const session = useSessions(() => env.client);

describe("mutex", () => {
  it("uses Go's key layout: name/ + lowercase hex lease, empty value, bound to the lease", async () => {
    const s = await session();
    const m = locks(env.client).mutex("layout/job", { session: s });
    const hold = await m.lock();
    const kv = await env.client.get(`layout/job/${s.leaseId.toString(16)}`);
    expect(kv?.value.length).toBe(0);
    expect(kv?.lease).toBe(s.leaseId);
    expect(hold.key.toString()).toBe(`layout/job/${s.leaseId.toString(16)}`);
    expect(hold.fencingToken).toBe(kv?.createRevision);
    expect(m.fencingToken).toBe(hold.fencingToken);
    await m.unlock();
    expect(await env.client.get(hold.key)).toBeUndefined();
    await expect(m.unlock()).rejects.toMatchObject({ name: "LockError", reason: "notHeld" });
  });

  it("grants the lock in queue order (by create revision) across sessions", async () => {
    const sessions = await Promise.all([1, 2, 3, 4, 5].map(() => session()));
    const mutexes = sessions.map((s) => locks(env.client).mutex("fair/a", { session: s }));
    const first = await mutexes[0]!.lock();
    const order: number[] = [];
    const holds = [];
    // Queue the others one after the other, each once the previous one is known to wait.
    for (let i = 1; i < mutexes.length; i++) {
      const waiting = new Promise((resolve) => mutexes[i]!.once("waiting", resolve));
      holds.push(
        mutexes[i]!.lock().then(async (hold) => {
          order.push(i);
          await sleep(20);
          await hold.unlock();
          return hold.fencingToken;
        }),
      );
      await waiting;
    }
    expect(order).toEqual([]);
    await first.unlock();
    const tokens = await Promise.all(holds);
    expect(order).toEqual([1, 2, 3, 4]);
    expect([...tokens].sort((a, b) => (a < b ? -1 : 1))).toEqual(tokens);
    expect(await keysUnder(env.client, "fair/a/")).toBe(0);
  });

  it("queues tasks of one process that share a session, and never lets them overlap", async () => {
    const s = await session();
    const lock = locks(env.client);
    let inside = 0;
    let maxInside = 0;
    const tokens = await Promise.all(
      [0, 1, 2, 3].map(() =>
        lock.mutex("local/a", { session: s }).withLock(async (_signal, hold) => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleep(30);
          inside--;
          return hold.fencingToken;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    expect(new Set(tokens).size).toBe(4); // each task created the key anew
  });

  it("tryLock refuses a held lock with `locked` and leaves no key behind", async () => {
    const [a, b] = [await session(), await session()];
    const held = await locks(env.client).mutex("try/a", { session: a }).tryLock();
    const other = locks(env.client).mutex("try/a", { session: b });
    await expect(other.tryLock()).rejects.toMatchObject({ reason: "locked" });
    expect(await keysUnder(env.client, "try/a/")).toBe(1);
    // Same session, another task: refused in-process.
    await expect(locks(env.client).mutex("try/a", { session: a }).tryLock()).rejects.toMatchObject({
      reason: "locked",
    });
    await held.unlock();
    const mine = await other.tryLock();
    expect(mine.fencingToken).toBeGreaterThan(held.fencingToken);
    await mine.unlock();
  });

  it("timeout and abort while waiting remove the waiter's key, so the queue goes on", async () => {
    const [a, b, c, d] = await Promise.all([session(), session(), session(), session()]);
    const lock = locks(env.client);
    const held = await lock.mutex("cancel/a", { session: a }).lock();
    const timedOut = lock.mutex("cancel/a", { session: b }).lock({ timeoutMs: 300 });
    const controller = new AbortController();
    const aborted = lock.mutex("cancel/a", { session: c }).lock({ signal: controller.signal });
    const last = lock.mutex("cancel/a", { session: d });
    const waiting = new Promise((resolve) => last.once("waiting", resolve));
    const lastHold = last.lock();
    await waiting;
    expect(await keysUnder(env.client, "cancel/a/")).toBe(4);
    await expect(timedOut).rejects.toMatchObject({ name: "LockError", reason: "timeout" });
    controller.abort(new Error("user gave up"));
    await expect(aborted).rejects.toMatchObject({ reason: "aborted" });
    expect(await keysUnder(env.client, "cancel/a/")).toBe(2);
    await held.unlock();
    const got = await lastHold;
    expect(got.fencingToken).toBeGreaterThan(held.fencingToken);
    await got.unlock();
    // An already aborted signal: nothing is created.
    await expect(
      lock.mutex("cancel/a", { session: a }).lock({ signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ reason: "aborted" });
    expect(await keysUnder(env.client, "cancel/a/")).toBe(0);
  });

  it("reports a key deleted by someone else: lost event, aborted signal, guarded writes refused", async () => {
    const s = await session();
    const m = locks(env.client).mutex("loss/a", { session: s });
    const lost = new Promise<LockError>((resolve) => m.once("lost", resolve));
    const hold = await m.lock();
    const guarded = (v: string) =>
      env.client.txn().if(hold.isOwner()).then(op.put("loss/resource", v)).commit();
    expect((await guarded("1")).succeeded).toBe(true);
    await env.client.delete(hold.key);
    expect((await lost).reason).toBe("lost");
    expect(hold.signal.aborted).toBe(true);
    expect(hold.isLost).toBe(true);
    expect((await guarded("2")).succeeded).toBe(false);
    expect((await env.client.get("loss/resource"))?.text()).toBe("1");
    await expect(m.unlock()).rejects.toMatchObject({ reason: "lost" });
    // The next lock through the same session works again.
    const again = await m.lock();
    expect(again.fencingToken).toBeGreaterThan(hold.fencingToken);
    await again.unlock();
  });

  it("reports the session's lease lost: withLock's signal aborts and withLock rejects", async () => {
    const s = await session();
    const m = locks(env.client).mutex("loss/b", { session: s });
    const result = m.withLock(async (signal) => {
      await env.client.lease.revoke(s.leaseId);
      // The deletion may be seen before revoke() returns: the signal may already be aborted.
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve));
      return signal.reason as LockError;
    });
    await expect(result).rejects.toMatchObject({ reason: expect.stringMatching(/^(lost|sessionLost)$/) });
    // A lost session cannot lock any more.
    await until(() => s.isLost, 5_000, "session lost");
    await expect(m.lock()).rejects.toMatchObject({ reason: "sessionLost" });
  });

  it("a waiter whose lease is lost fails fast with sessionLost instead of waiting for its turn", async () => {
    const [a, b] = [await session(), await session()];
    const held = await locks(env.client).mutex("loss/c", { session: a }).lock();
    const waiter = locks(env.client).mutex("loss/c", { session: b });
    const waiting = new Promise((resolve) => waiter.once("waiting", resolve));
    const pending = waiter.lock();
    await waiting;
    await env.client.lease.revoke(b.leaseId);
    await expect(pending).rejects.toMatchObject({ reason: expect.stringMatching(/^(lost|sessionLost)$/) });
    expect(held.isLost).toBe(false);
    await held.unlock();
  });

  it("the fencing compare works in the client's txn builder with other compares", async () => {
    const s = await session();
    const m = locks(env.client).mutex("fence/a", { session: s });
    await m.lock();
    const r = await env.client
      .txn()
      .if(m.isOwner(), compare.create("fence/other", "==", 0n))
      .then(op.put("fence/data", "x"))
      .commit();
    expect(r.succeeded).toBe(true);
    await m.unlock();
    expect(() => m.isOwner()).toThrow(LockError);
  });

  it("refuses bad input with typed errors", async () => {
    const s = await session();
    const lock = locks(env.client);
    for (const name of ["", "a/", "a\0b", "x".repeat(5000)]) {
      expect(() => lock.mutex(name, { session: s })).toThrow(
        expect.objectContaining({ reason: "badRequest" }),
      );
    }
    expect(() => lock.mutex(42 as unknown as string, { session: s })).toThrow(
      expect.objectContaining({ reason: "badRequest" }),
    );
    expect(() => lock.mutex("ok", {} as never)).toThrow(expect.objectContaining({ reason: "badRequest" }));
    const m = lock.mutex("bad/a", { session: s });
    await expect(m.lock({ timeoutMs: -1 })).rejects.toMatchObject({ reason: "badRequest" });
    await expect(m.lock({ timeoutMs: 10, retries: 3 } as never)).rejects.toMatchObject({
      reason: "badRequest",
    });
    await expect(m.withLock("nope" as never)).rejects.toMatchObject({ reason: "badRequest" });
    await expect(m.unlock()).rejects.toMatchObject({ reason: "notHeld" });
    expect(() => m.isOwner()).toThrow(expect.objectContaining({ reason: "notHeld" }));
    // A closed session: its lease is revoked, so locking reports the session as lost.
    const closed = await session();
    const late = lock.mutex("bad/b", { session: closed });
    await closed.close();
    await expect(late.lock()).rejects.toMatchObject({ reason: "sessionLost" });
    expect(await keysUnder(env.client, "bad/")).toBe(0);
  });
});
