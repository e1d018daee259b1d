import { etcdserverpb } from "@keyway/api";
import { crc32c } from "@node-rs/crc32";
import { afterEach, describe, expect, it } from "vitest";
import type { StateMachine } from "../../src/apply/index.js";
import type { LeaseChange } from "../../src/lease/lease-table.js";
import { create, hubOver, settle, show, TestSink } from "../watch/support.js";
import { b, Harness, op, req } from "./harness.js";

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

function harness(leases: bigint[] = [], extra: Parameters<typeof Harness.open>[1] = {}): Harness {
  const h = Harness.open(leases, extra);
  open.push(h);
  return h;
}

/** A history with puts, deletes, txns, leases with keys, a revoke, and a finished compaction. */
async function richSource(): Promise<Harness> {
  const h = harness([1n, 2n, 3n]);
  h.ok(req.put("a", "1"));
  h.ok(req.put("b", "1", { lease: 1n }));
  h.ok(req.put("c", "1", { lease: 2n }));
  h.ok(req.txn({ success: [op.put("a", "2"), op.put("d", "1", { lease: 2n }), op.del("c")] }));
  h.ok(req.del("a"));
  h.ok(req.put("e", "1", { lease: 3n }));
  h.ok(req.revoke(3n));
  h.ok(req.compact(5));
  await h.sm.compacted(5);
  h.ok(req.put("a", "3"));
  h.ok(req.txn({ compare: [], success: [op.put("f", "1"), op.put("g", "1", { lease: 1n })] }));
  h.ok(req.del("b", "c"));
  h.ok(req.put("h", "x".repeat(5000)));
  return h;
}

/** Everything a reader can observe of a state machine, at every revision since the compaction. */
async function observe(sm: StateMachine) {
  const revisions = [];
  for (let rev = Math.max(sm.compactRevision, 1); rev <= sm.currentRevision; rev++) {
    revisions.push({
      rev,
      hash: rev > sm.compactRevision ? (await sm.hashKV(rev)).hash : undefined,
      kvs: sm.range(
        etcdserverpb.RangeRequest.fromPartial({ key: b(""), rangeEnd: b("\0"), revision: BigInt(rev) }),
      ).kvs,
    });
  }
  const leases = sm
    .allLeases()
    .map((lease) => ({ id: lease.id, ttl: lease.ttlSeconds, keys: [...lease.keys].sort() }))
    .sort((x, y) => Number(x.id - y.id));
  return {
    appliedIndex: sm.appliedIndex,
    currentRevision: sm.currentRevision,
    compactRevision: sm.compactRevision,
    hash: await sm.hashKV(0),
    revisions,
    leases,
  };
}

/** The same next entries for source and target, which must then agree. */
function applyLater(h: Harness): void {
  h.ok(req.put("z", "1", { lease: 2n }));
  h.ok(req.revoke(1n));
  h.ok(req.txn({ success: [op.put("a", "4"), op.del("d")] }));
  h.ok(req.grant(9n, 30));
  h.ok(req.compact(9));
}

describe("state-machine snapshots", () => {
  it("restores into an empty and into a non-empty machine exactly the source's state", async () => {
    const source = await richSource();
    const dump = await source.sm.exportSnapshot();
    expect(dump.index).toBe(source.sm.appliedIndex);
    expect(dump.term).toBe(1);
    const expected = await observe(source.sm);

    const empty = harness();
    const busy = harness([7n, 1n]);
    busy.ok(req.put("a", "other", { lease: 7n }));
    busy.ok(req.put("q", "other"));
    busy.ok(req.compact(2));
    for (const target of [empty, busy]) {
      const leaseChanges: LeaseChange[] = [];
      const restoredAt: number[] = [];
      target.sm.onLeaseChanges((changes) => leaseChanges.push(...changes));
      target.sm.onRestore((revision) => restoredAt.push(revision));
      await target.sm.restoreSnapshot(dump.data);
      expect(await observe(target.sm)).toEqual(expected);
      expect(restoredAt).toEqual([source.sm.currentRevision]);
      const grants = [{ type: "grant", id: 2n, ttlSeconds: 60 }];
      // The busy one had lease 1 with the same TTL: it keeps its expiry; lease 7 is gone.
      expect(leaseChanges).toEqual(
        target === busy
          ? [{ type: "revoke", id: 7n }, ...grants]
          : [{ type: "grant", id: 1n, ttlSeconds: 60 }, ...grants],
      );
      // Re-exported, the restored state is the same dump, byte for byte.
      const again = await target.sm.exportSnapshot();
      expect([again.index, again.term]).toEqual([dump.index, dump.term]);
      expect(Buffer.from(again.data).equals(Buffer.from(dump.data))).toBe(true);
    }

    // Both keep applying later entries identically to the source.
    empty.rewindTo(source.sm.appliedIndex + 1);
    for (const h of [source, empty]) {
      applyLater(h);
      await h.sm.compacted(9);
    }
    expect(await observe(empty.sm)).toEqual(await observe(source.sm));

    // A restart after the restore opens the same state.
    await busy.reopen();
    expect(await observe(busy.sm)).toEqual(expected);
  });

  it("refuses a corrupted or truncated dump and leaves the target untouched", async () => {
    const source = await richSource();
    const { data } = await source.sm.exportSnapshot();
    const target = harness([4n]);
    target.ok(req.put("mine", "1", { lease: 4n }));
    const before = await observe(target.sm);
    const flipped = (at: number) => {
      const copy = Buffer.from(data);
      copy[at] = (copy[at] as number) ^ 0x01;
      return copy;
    };
    /** A dump with its record count changed and its CRC made right again. */
    const recounted = (() => {
      const copy = Buffer.from(data);
      copy.writeBigUInt64BE(copy.readBigUInt64BE(copy.length - 12) + 1n, copy.length - 12);
      copy.writeUInt32BE(crc32c(copy.subarray(0, copy.length - 4)) >>> 0, copy.length - 4);
      return copy;
    })();
    const bad: [Uint8Array, RegExp][] = [
      [flipped(0), /bad magic/],
      [flipped(5), /unsupported format version/],
      [flipped(Math.floor(data.length / 2)), /CRC mismatch/],
      [flipped(data.length - 1), /CRC mismatch/],
      [data.subarray(0, data.length - 1), /CRC mismatch/],
      [data.subarray(0, 10), /too short/],
      [recounted, /records, trailer says/],
    ];
    for (const [dump, why] of bad) {
      await expect(target.sm.restoreSnapshot(dump)).rejects.toThrow(why);
      expect(await observe(target.sm)).toEqual(before);
    }
    // Still healthy: it applies and restores a good dump.
    target.ok(req.put("mine", "2"));
    await target.sm.restoreSnapshot(data);
    expect(target.keys("", "\0")).toEqual(["a", "d", "f", "g", "h"]);
  });

  it("dumps the state at its start while writes go on between its slices", async () => {
    let during: (() => Promise<void>) | undefined;
    const source = harness([], {
      yieldToEventLoop: async () => {
        const writes = during;
        during = undefined;
        await writes?.();
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    const value = "v".repeat(100);
    for (let i = 0; i < 20; i++) {
      source.applyAll(...Array.from({ length: 1000 }, (_, j) => req.put(`key-${i}-${j}`, value)));
    }
    const indexAtStart = source.sm.appliedIndex;
    const revisionAtStart = source.sm.currentRevision;
    let writesRan = 0;
    during = async () => {
      writesRan++;
      source.ok(req.del("key-", "key."));
      await source.sm.commit();
    };
    const dump = await source.sm.exportSnapshot();
    expect(writesRan).toBe(1);
    expect(source.sm.currentRevision).toBe(revisionAtStart + 1);
    expect(dump.index).toBe(indexAtStart);
    const target = harness();
    await target.sm.restoreSnapshot(dump.data);
    expect(target.sm.currentRevision).toBe(revisionAtStart);
    expect(target.range("key-", "key.", { countOnly: true }).count).toBe(20_000n);
    expect(await target.sm.hashKV(0)).toEqual(await source.sm.hashKV(revisionAtStart));
  });

  it("serves reads from the old state while the restore writes, and refuses applies", async () => {
    const source = await richSource();
    const { data } = await source.sm.exportSnapshot();
    const target = harness();
    for (let i = 0; i < 10; i++) {
      target.applyAll(...Array.from({ length: 1000 }, (_, j) => req.put(`old-${i * 1000 + j}`, "1")));
    }
    const all = etcdserverpb.RangeRequest.fromPartial({ key: b(""), rangeEnd: b("\0") });
    // A chunked read that starts before the restore and ends after it: it reads the old state.
    const longRead = target.sm.rangeChunked(all);
    const restoring = target.sm.restoreSnapshot(data);
    expect(() => target.ok(req.put("x", "1"))).toThrow(/restore is in progress/);
    const seen: bigint[] = [];
    let restored = false;
    void restoring.then(() => {
      restored = true;
    });
    while (!restored) {
      seen.push(target.range("", "\0", { countOnly: true }).count);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Every read saw the whole old state or the whole new one.
    expect(seen.every((count) => count === 10_000n)).toBe(true);
    expect(target.range("", "\0", { countOnly: true }).count).toBe(5n);
    const old = await longRead;
    expect(old.kvs.length).toBe(10_000);
    expect(old.kvs.every((kv) => kv.key.toString().startsWith("old-") && kv.value.toString() === "1")).toBe(
      true,
    );
    target.rewindTo(source.sm.appliedIndex + 1);
    expect(target.ok(req.put("x", "1")).header?.revision).toBe(BigInt(source.sm.currentRevision + 1));
  });
});

describe("watchers across a snapshot restore", () => {
  /** A source and a follower that applied the same first entries, and a hub over the follower. */
  async function pair() {
    const source = harness();
    const follower = harness();
    for (const h of [source, follower]) h.applyAll(req.put("a", "1"), req.put("b", "1"), req.put("a", "2"));
    // Any response a paused sink holds backs the stream up.
    const hub = hubOver(follower.sm, { streamBufferBytes: 1 });
    follower.sm.onRestore(() => hub.restored());
    const sink = new TestSink();
    const session = hub.open(sink);
    return { source, follower, hub, sink, session };
  }

  it("each watcher gets exactly the events after its revision, once", async () => {
    const { source, follower, hub, sink, session } = await pair();
    session.handle(create({ key: b("a"), startRevision: 2n }));
    session.handle(create({ key: b(""), rangeEnd: b("\0") }));
    session.handle(create({ key: b("b"), startRevision: 4n }));
    await settle();
    // Applied on the follower and not fanned out yet when the restore comes.
    for (const h of [source, follower]) h.ok(req.put("c", "1"));
    source.ok(req.put("a", "3"));
    source.ok(req.txn({ success: [op.put("b", "2"), op.del("c")] }));
    source.ok(req.put("d", "1"));
    await follower.sm.restoreSnapshot((await source.sm.exportSnapshot()).data);
    await settle();
    follower.rewindTo(source.sm.appliedIndex + 1);
    for (const h of [source, follower]) h.ok(req.put("a", "4"));
    await settle();
    expect(sink.eventsOf(0n).map(show)).toEqual(["PUT a@2", "PUT a@4", "PUT a@6", "PUT a@9"]);
    expect(sink.eventsOf(1n).map(show)).toEqual([
      "PUT c@5",
      "PUT a@6",
      "PUT b@7",
      "DELETE c@7",
      "PUT d@8",
      "PUT a@9",
    ]);
    expect(sink.eventsOf(2n).map(show)).toEqual(["PUT b@7"]);
    expect(sink.responses.some((r) => r.canceled)).toBe(false);
    hub.close();
  });

  it("cancels with compact_revision only a watcher whose next revision was compacted away", async () => {
    const { source, follower, hub, sink, session } = await pair();
    session.handle(create({ key: b("a"), startRevision: 2n }));
    session.handle(create({ key: b("zz") }));
    await settle();
    for (const h of [source, follower]) h.applyAll(req.put("a", "3"), req.put("x", "1"), req.put("x", "2"));
    await settle();
    source.ok(req.put("a", "4"));
    source.ok(req.compact(7));
    // A watcher still waiting for its catch-up (its stream is backed up) when the restore comes.
    sink.pause();
    session.handle(create({ key: b("b"), startRevision: 2n }));
    await follower.sm.restoreSnapshot((await source.sm.exportSnapshot()).data);
    sink.resume();
    await settle();
    const cancels = sink.responses.filter((r) => r.canceled);
    expect(cancels.map((r) => [r.watchId, r.compactRevision])).toEqual([[2n, 7n]]);
    // The others had been offered everything through revision 7: nothing of theirs was compacted.
    expect(sink.eventsOf(0n).map(show)).toEqual(["PUT a@2", "PUT a@4", "PUT a@5", "PUT a@8"]);
    expect(sink.eventsOf(1n)).toEqual([]);
    expect(sink.eventsOf(2n)).toEqual([]);
    hub.close();
  });
});
