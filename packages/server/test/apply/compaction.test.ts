import { crc32c } from "@node-rs/crc32";
import { afterEach, describe, expect, it } from "vitest";
import { EtcdServerError } from "../../src/errors.js";
import { Backend, LmdbBackend } from "../../src/mvcc/index.js";
import { Harness, op, plain, req } from "./harness.js";

/** Stored revisions (main_sub) of a closed state machine's backend. */
async function storedRevisions(dir: string): Promise<string[]> {
  const backend = new Backend(LmdbBackend.open(dir));
  const revisions = [...backend.scan(Buffer.alloc(17), Number.MAX_SAFE_INTEGER - 1)].map(
    ({ key }) => `${key.readUInt32BE(4)}_${key.readUInt32BE(13)}${key.length === 18 ? "t" : ""}`,
  );
  await backend.close();
  return revisions;
}

/**
 *   rev 2 put a   rev 3 put b   rev 4 put a   rev 5 del b   rev 6 put c   rev 7 put a   rev 8 del c
 */
function fill(h: Harness): void {
  h.applyAll(
    req.put("a", "a2"),
    req.put("b", "b3"),
    req.put("a", "a4"),
    req.del("b"),
    req.put("c", "c6"),
    req.put("a", "a7"),
    req.del("c"),
  );
}

describe("compaction", () => {
  let h: Harness;
  afterEach(() => h.close());

  it("refuses revisions at or below the last compaction or above the current one", () => {
    h = Harness.open();
    fill(h);
    expect(h.fail(req.compact(9))).toBe("futureRev");
    const response = h.ok(req.compact(4));
    expect(response.header?.revision).toBe(8n);
    expect(h.sm.compactRevision).toBe(4);
    expect(h.fail(req.compact(4))).toBe("compacted");
    expect(h.fail(req.compact(3))).toBe("compacted");
    expect(h.sm.currentRevision).toBe(8);
  });

  it("fails reads below the compaction revision and serves reads at it", () => {
    h = Harness.open();
    fill(h);
    h.ok(req.compact(6));
    expect(() => h.range("a", "", { revision: 5n })).toThrow(new EtcdServerError("compacted"));
    expect(h.range("\0", "\0", { revision: 6n }).kvs.map(plain)).toEqual([
      { key: "a", value: "a4", create: 2, mod: 4, version: 2, lease: 0 },
      { key: "c", value: "c6", create: 6, mod: 6, version: 1, lease: 0 },
    ]);
    expect(h.fail(req.txn({ success: [op.range("a", "", { revision: 5n })] }))).toBe("compacted");
  });

  it("physically removes what no read at or above the compaction revision needs", async () => {
    h = Harness.open(undefined, { compactionBatchRevisions: 2 });
    fill(h);
    h.ok(req.compact(5));
    // The physical part has not run yet; the hash must not see it happen.
    const hashBefore = await h.sm.hashKV(7);
    await h.sm.compacted(5);
    // a keeps rev 4 (its value at 5) and 7; b's put and tombstone go; c is above the compaction.
    expect((await h.sm.hashKV(7)).hash).toBe(hashBefore.hash);
    expect((await h.sm.hashKV(7)).compactRevision).toBe(5);
    expect(plain(h.range("a", "", { revision: 5n }).kvs[0])).toMatchObject({
      value: "a4",
      version: 2,
      create: 2,
    });
    h.ok(req.put("a", "a9"));
    expect(plain(h.range("a").kvs[0])).toMatchObject({ value: "a9", version: 4, create: 2 });
    await h.sm.close();
    expect(await storedRevisions(h.dir)).toEqual(["4_0", "6_0", "7_0", "8_0t", "9_0"]);
    await h.reopen();
    expect(plain(h.range("a").kvs[0])).toMatchObject({ value: "a9", version: 4, create: 2 });
    expect(h.sm.compactRevision).toBe(5);
    expect(h.sm.currentRevision).toBe(9);
  });

  it("drops a trailing tombstone and keeps the current revision across a restart", async () => {
    h = Harness.open();
    fill(h);
    h.ok(req.compact(8));
    await h.sm.compacted(8);
    await h.sm.close();
    expect(await storedRevisions(h.dir)).toEqual(["7_0"]);
    await h.reopen();
    expect(h.sm.currentRevision).toBe(8);
    expect(h.keys("\0", "\0")).toEqual(["a"]);
    expect(plain(h.range("a").kvs[0])).toMatchObject({ version: 3, create: 2, mod: 7 });
  });

  it("resumes an unfinished physical compaction after a restart", async () => {
    h = Harness.open();
    fill(h);
    h.ok(req.compact(6));
    // Closing at once stops the job before its first step.
    await h.sm.close();
    expect(await storedRevisions(h.dir)).toHaveLength(7);
    await h.reopen();
    expect(h.sm.compactRevision).toBe(6);
    await h.sm.compacted(6);
    await h.sm.close();
    expect(await storedRevisions(h.dir)).toEqual(["4_0", "6_0", "7_0", "8_0t"]);
    await h.reopen();
  });

  it("fails the waiters of a job that breaks, and resumes it on the next open", async () => {
    let failures = 1;
    h = Harness.open(undefined, {
      yieldToEventLoop: () =>
        failures-- > 0 ? Promise.reject(new Error("disk went away")) : Promise.resolve(),
    });
    fill(h);
    h.ok(req.compact(6));
    await expect(h.sm.compacted(6)).rejects.toThrow("disk went away");
    await h.reopen();
    await h.sm.compacted(6);
    await h.sm.close();
    expect(await storedRevisions(h.dir)).toEqual(["4_0", "6_0", "7_0", "8_0t"]);
    await h.reopen();
  });

  it("runs compactions in order, interleaved with applies", async () => {
    h = Harness.open(undefined, { compactionBatchRevisions: 1 });
    for (let i = 0; i < 20; i++) h.ok(req.put(`k${i % 4}`, `${i}`));
    h.ok(req.compact(10));
    h.ok(req.compact(15));
    h.ok(req.put("k0", "late"));
    const done = h.sm.compacted(15);
    h.ok(req.del("k1"));
    await done;
    expect((await h.sm.hashKV(0)).compactRevision).toBe(15);
    expect(h.range("\0", "\0", { revision: 15n }).kvs.map((kv) => kv.value.toString())).toEqual([
      "12",
      "13",
      "10",
      "11",
    ]);
    expect(h.keys("\0", "\0")).toEqual(["k0", "k2", "k3"]);
  });
});

describe("HashKV", () => {
  let h: Harness;
  afterEach(() => h.close());

  it("is equal for equal histories and checks its revision", async () => {
    h = Harness.open();
    fill(h);
    const other = Harness.open();
    fill(other);
    expect(await other.sm.hashKV(0)).toEqual(await h.sm.hashKV(0));
    expect((await h.sm.hashKV(0)).hashRevision).toBe(8);
    expect((await h.sm.hashKV(0)).compactRevision).toBe(-1);
    other.ok(req.put("x", "1"));
    expect((await other.sm.hashKV(0)).hash).not.toBe((await h.sm.hashKV(0)).hash);
    expect((await other.sm.hashKV(8)).hash).toBe((await h.sm.hashKV(8)).hash);
    await other.close();
    await expect(h.sm.hashKV(9)).rejects.toThrow(new EtcdServerError("futureRev"));
    // etcd hashes nothing but the bucket name below revision 0.
    expect((await h.sm.hashKV(-2)).hash).toBe(crc32c("key"));
    h.ok(req.compact(4));
    await expect(h.sm.hashKV(4)).rejects.toThrow(new EtcdServerError("compacted"));
    expect((await h.sm.hashKV(5)).compactRevision).toBe(4);
  });
});
