import { type etcdserverpb, mvccpb } from "@keyway/api";
import { afterEach, describe, expect, it } from "vitest";
import type { LeaseChange } from "../../src/lease/lease-table.js";
import { Harness, MIN_TTL_SECONDS, op, plain, req } from "./harness.js";

const keysOf = (h: Harness, id: bigint) => [...(h.sm.lease(id)?.keys ?? [])].sort();

describe("apply: lease grant, attach/detach, revoke", () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it("grants with etcd's checks: minimum TTL, too large, existing id, id 0", () => {
    h = Harness.open();
    const granted = h.ok<etcdserverpb.LeaseGrantResponse>(req.grant(10n, 30n));
    expect([granted.ID, granted.TTL, granted.header?.revision]).toEqual([10n, 30n, 1n]);
    expect(h.ok<etcdserverpb.LeaseGrantResponse>(req.grant(11n, 1n)).TTL).toBe(BigInt(MIN_TTL_SECONDS));
    expect(h.ok<etcdserverpb.LeaseGrantResponse>(req.grant(-12n, -3n)).TTL).toBe(BigInt(MIN_TTL_SECONDS));
    expect(h.ok<etcdserverpb.LeaseGrantResponse>(req.grant(13n, 9_000_000_000n)).TTL).toBe(9_000_000_000n);
    expect(h.fail(req.grant(14n, 9_000_000_001n))).toBe("leaseTTLTooLarge");
    expect(h.fail(req.grant(10n, 5n))).toBe("leaseExist");
    // etcd checks the TTL before the id.
    expect(h.fail(req.grant(10n, 9_000_000_001n))).toBe("leaseTTLTooLarge");
    expect(h.fail(req.grant(0n, 5n))).toBe("leaseNotFound");
    expect(
      h.sm
        .allLeases()
        .map((lease) => lease.id)
        .sort(),
    ).toEqual([-12n, 10n, 11n, 13n]);
    expect(h.sm.currentRevision).toBe(1);
  });

  it("attaches on put, keeps with ignore_lease, moves to another lease, detaches on put without lease and on delete", () => {
    h = Harness.open([1n, 2n]);
    h.ok(req.put("a", "1", { lease: 1n }));
    h.ok(req.put("b", "1", { lease: 1n }));
    h.ok(req.put("c", "1", { lease: 1n }));
    expect(keysOf(h, 1n)).toEqual(["a", "b", "c"]);
    h.ok(req.put("a", "2", { ignoreLease: true }));
    expect(plain(h.range("a").kvs[0])?.lease).toBe(1);
    h.ok(req.put("b", "2", { lease: 2n }));
    h.ok(req.put("c", "2"));
    expect([keysOf(h, 1n), keysOf(h, 2n)]).toEqual([["a"], ["b"]]);
    h.ok(req.del("a"));
    expect(keysOf(h, 1n)).toEqual([]);
    // A key deleted and put again without a lease stays detached.
    h.ok(req.put("a", "3"));
    expect(keysOf(h, 1n)).toEqual([]);
  });

  it("attaches and detaches through txn puts and deletes; an unknown lease aborts the whole txn", () => {
    h = Harness.open([5n]);
    h.ok(req.txn({ success: [op.put("t1", "v", { lease: 5n }), op.put("t2", "v", { lease: 5n })] }));
    expect(keysOf(h, 5n)).toEqual(["t1", "t2"]);
    const before = h.sm.currentRevision;
    expect(h.fail(req.txn({ success: [op.del("t1"), op.put("t3", "v", { lease: 6n })] }))).toBe(
      "leaseNotFound",
    );
    expect([h.sm.currentRevision, keysOf(h, 5n)]).toEqual([before, ["t1", "t2"]]);
    h.ok(req.txn({ success: [op.txn({ success: [op.del("t1")] })] }));
    expect(keysOf(h, 5n)).toEqual(["t2"]);
  });

  it("revokes: every attached key deleted in one revision, key order, record gone; no keys = no revision", () => {
    h = Harness.open([1n, 2n]);
    for (const key of ["m", "z", "a", "k"]) h.ok(req.put(key, "v", { lease: 1n }));
    h.ok(req.put("other", "v", { lease: 2n }));
    const events: [number, mvccpb.Event[]][] = [];
    h.sm.onEvents((revision, batch) => events.push([revision, batch]));
    const changes: LeaseChange[] = [];
    h.sm.onLeaseChanges((batch) => changes.push(...batch));
    const revoked = h.ok<etcdserverpb.LeaseRevokeResponse>(req.revoke(1n));
    expect(revoked.header?.revision).toBe(7n);
    expect(events).toHaveLength(1);
    expect(events[0]?.[0]).toBe(7);
    expect(events[0]?.[1].map((e) => [e.type, e.kv?.key.toString()])).toEqual(
      ["a", "k", "m", "z"].map((key) => [mvccpb.Event_EventType.DELETE, key]),
    );
    expect(h.keys("", "\0")).toEqual(["other"]);
    expect(h.sm.lease(1n)).toBeUndefined();
    expect(h.fail(req.revoke(1n))).toBe("leaseNotFound");
    h.ok(req.grant(3n));
    expect(h.ok<etcdserverpb.LeaseRevokeResponse>(req.revoke(3n)).header?.revision).toBe(7n);
    expect(changes).toEqual([
      { type: "revoke", id: 1n },
      { type: "grant", id: 3n, ttlSeconds: 60 },
      { type: "revoke", id: 3n },
    ]);
    // A put naming the revoked lease is refused like any unknown lease.
    expect(h.fail(req.put("x", "v", { lease: 1n }))).toBe("leaseNotFound");
  });

  it("rebuilds leases and attachments on restart; a revoked lease stays revoked", async () => {
    h = Harness.open([1n, 2n, 3n]);
    h.ok(req.put("a", "v", { lease: 1n }));
    h.ok(req.put("b", "v", { lease: 1n }));
    h.ok(req.put("b", "v2")); // detached by a put without lease
    h.ok(req.put("c", "v", { lease: 2n }));
    h.ok(req.put("d", "v", { lease: 1n }));
    h.ok(req.del("d")); // detached by delete
    h.ok(req.put("e", "v", { lease: 3n }));
    h.ok(req.revoke(3n));
    await h.reopen();
    expect(h.sm.allLeases().map(({ id, ttlSeconds }) => [id, ttlSeconds])).toEqual([
      [1n, 60],
      [2n, 60],
    ]);
    expect([keysOf(h, 1n), keysOf(h, 2n), h.sm.lease(3n)]).toEqual([["a"], ["c"], undefined]);
    h.ok(req.revoke(1n));
    expect(h.keys("", "\0")).toEqual(["b", "c"]);
    expect(h.range("e").kvs).toEqual([]);
  });

  it("skips a revoke entry replayed at or below the applied index (WAL replay after a restart)", async () => {
    h = Harness.open([1n]);
    h.ok(req.put("a", "v", { lease: 1n }));
    const index = h.sm.appliedIndex;
    h.ok(req.revoke(1n));
    await h.reopen();
    // Replaying the same entry (an index at or below the applied one) changes nothing.
    h.rewindTo(index + 1);
    const [outcome] = h.applyAll(req.revoke(1n));
    expect(outcome?.ok).toBe(false);
    expect([h.sm.lease(1n), h.sm.currentRevision, h.range("a").kvs]).toEqual([undefined, 3, []]);
  });
});
