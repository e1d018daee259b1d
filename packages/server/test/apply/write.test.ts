import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Harness, plain, req } from "./harness.js";

describe("Put and DeleteRange", () => {
  let h: Harness;
  beforeEach(() => {
    h = Harness.open([7n]);
  });
  afterEach(() => h.close());

  it("starts at revision 1 with nothing compacted", () => {
    expect(h.sm.currentRevision).toBe(1);
    expect(h.sm.compactRevision).toBe(-1);
    expect(h.range("a").header?.revision).toBe(1n);
    expect(h.range("a").kvs).toEqual([]);
  });

  it("gives every put a new revision, keeps create_revision and counts versions", () => {
    expect(h.ok(req.put("a", "1")).header?.revision).toBe(2n);
    expect(h.ok(req.put("a", "1")).header?.revision).toBe(3n);
    h.ok(req.put("b", "x"));
    expect(plain(h.range("a").kvs[0])).toEqual({
      key: "a",
      value: "1",
      create: 2,
      mod: 3,
      version: 2,
      lease: 0,
    });
    expect(h.range("a").header?.revision).toBe(4n);
  });

  it("starts a new generation after a delete", () => {
    h.ok(req.put("a", "1"));
    h.ok(req.put("a", "2"));
    const deleted = h.ok(req.del("a"));
    expect(deleted.deleted).toBe(1n);
    expect(deleted.header?.revision).toBe(4n);
    expect(h.range("a").kvs).toEqual([]);
    h.ok(req.put("a", "3"));
    expect(plain(h.range("a").kvs[0])).toEqual({
      key: "a",
      value: "3",
      create: 5,
      mod: 5,
      version: 1,
      lease: 0,
    });
    // History stays readable per generation.
    expect(plain(h.range("a", "", { revision: 3n }).kvs[0])).toMatchObject({
      value: "2",
      create: 2,
      version: 2,
    });
    expect(h.range("a", "", { revision: 4n }).kvs).toEqual([]);
    expect(h.range("a", "", { revision: 1n }).kvs).toEqual([]);
  });

  it("does not bump the revision for a delete of nothing", () => {
    h.ok(req.put("a", "1"));
    const response = h.ok(req.del("zz"));
    expect(response.deleted).toBe(0n);
    expect(response.header?.revision).toBe(2n);
    expect(h.sm.currentRevision).toBe(2);
  });

  it("deletes a range in one revision with prev_kvs in key order", () => {
    for (const key of ["a", "b", "c", "d"]) h.ok(req.put(key, key.toUpperCase()));
    const response = h.ok(req.del("b", "d", { prevKv: true }));
    expect(response.deleted).toBe(2n);
    expect(response.prevKvs.map(plain)).toEqual([
      { key: "b", value: "B", create: 3, mod: 3, version: 1, lease: 0 },
      { key: "c", value: "C", create: 4, mod: 4, version: 1, lease: 0 },
    ]);
    expect(h.sm.currentRevision).toBe(6);
    expect(h.keys("a", "\0")).toEqual(["a", "d"]);
  });

  it("deletes from a key on with range_end \\0", () => {
    for (const key of ["a", "b", "c"]) h.ok(req.put(key, "v"));
    expect(h.ok(req.del("b", "\0")).deleted).toBe(2n);
    expect(h.keys("\0", "\0")).toEqual(["a"]);
  });

  it("returns prev_kv only when asked and only if the key existed", () => {
    expect(h.ok(req.put("a", "1", { prevKv: true })).prevKv).toBeUndefined();
    expect(plain(h.ok(req.put("a", "2", { prevKv: true })).prevKv)).toMatchObject({ value: "1", version: 1 });
    expect(h.ok(req.put("a", "3")).prevKv).toBeUndefined();
  });

  it("keeps the value or lease with ignore_value / ignore_lease", () => {
    h.ok(req.put("a", "1", { lease: 7n }));
    h.ok(req.put("a", "", { ignoreValue: true }));
    expect(plain(h.range("a").kvs[0])).toMatchObject({ value: "1", lease: 0, version: 2 });
    h.ok(req.put("a", "2", { ignoreLease: true }));
    expect(plain(h.range("a").kvs[0])).toMatchObject({ value: "2", lease: 0 });
    h.ok(req.put("a", "3", { lease: 7n }));
    h.ok(req.put("a", "4", { ignoreLease: true }));
    expect(plain(h.range("a").kvs[0])).toMatchObject({ value: "4", lease: 7 });
  });

  it("fails ignore_* on a missing key and a put with an unknown lease, changing nothing", () => {
    expect(h.fail(req.put("a", "", { ignoreValue: true }))).toBe("keyNotFound");
    expect(h.fail(req.put("a", "1", { ignoreLease: true }))).toBe("keyNotFound");
    expect(h.fail(req.put("a", "1", { lease: 8n }))).toBe("leaseNotFound");
    // Both wrong: a Put reports the lease (a put inside a txn reports the key, see txn tests).
    expect(h.fail(req.put("a", "", { lease: 8n, ignoreValue: true }))).toBe("leaseNotFound");
    h.ok(req.put("b", "1"));
    h.ok(req.del("b"));
    expect(h.fail(req.put("b", "", { ignoreValue: true }))).toBe("keyNotFound");
    expect(h.sm.currentRevision).toBe(3);
  });

  it("applies a batch in order, one outcome per entry, errors in place", () => {
    const outcomes = h.applyAll(req.put("a", "1"), req.put("a", "x", { lease: 99n }), req.put("a", "2"));
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, false, true]);
    expect(plain(h.range("a").kvs[0])).toMatchObject({ value: "2", version: 2, mod: 3 });
    // Index 1 is the harness's grant of lease 7.
    expect(h.sm.appliedIndex).toBe(4);
  });

  it("emits events per revision after the batch commits", () => {
    const seen: string[] = [];
    const off = h.sm.onEvents((revision, events) => {
      // The listener can already read what the batch wrote.
      expect(h.sm.currentRevision).toBeGreaterThanOrEqual(revision);
      for (const event of events) {
        seen.push(`${revision}:${event.type}:${event.kv?.key.toString()}:${event.kv?.modRevision}`);
      }
    });
    h.applyAll(req.put("a", "1"), req.put("b", "1"), req.del("a", "c"), req.del("zz"));
    off();
    h.ok(req.put("c", "1"));
    expect(seen).toEqual(["2:0:a:2", "3:0:b:3", "4:1:a:4", "4:1:b:4"]);
  });
});
