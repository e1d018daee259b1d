import { etcdserverpb } from "@keyway/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdServerError } from "../../src/errors.js";
import { Harness, plain, req } from "./harness.js";

const { SortOrder, SortTarget } = {
  SortOrder: etcdserverpb.RangeRequest_SortOrder,
  SortTarget: etcdserverpb.RangeRequest_SortTarget,
};

/**
 * One store for every Range option:
 *   rev 2 put a=3   rev 3 put b=1   rev 4 put c=2   rev 5 put a=1 (a: version 2)
 *   rev 6 put d=0   rev 7 del d     rev 8 put e=2   (current revision 8)
 */
describe("Range", () => {
  let h: Harness;
  beforeAll(() => {
    h = Harness.open();
    h.applyAll(
      req.put("a", "3"),
      req.put("b", "1"),
      req.put("c", "2"),
      req.put("a", "1"),
      req.put("d", "0"),
      req.del("d"),
      req.put("e", "2"),
    );
  });
  afterAll(() => h.close());

  it("reads a single key, a range, from-key and all keys", () => {
    expect(h.keys("a")).toEqual(["a"]);
    expect(h.keys("b", "d")).toEqual(["b", "c"]);
    expect(h.keys("c", "\0")).toEqual(["c", "e"]);
    expect(h.keys("\0", "\0")).toEqual(["a", "b", "c", "e"]);
    expect(h.keys("zz")).toEqual([]);
    // key >= range_end selects nothing
    expect(h.keys("d", "b")).toEqual([]);
    expect(h.range("a").header?.revision).toBe(8n);
  });

  it("counts every key in range, ignoring limit and filters, and sets more after the limit", () => {
    const limited = h.range("\0", "\0", { limit: 2n });
    expect(limited.kvs.map((kv) => kv.key.toString())).toEqual(["a", "b"]);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(4n);
    const exact = h.range("\0", "\0", { limit: 4n });
    expect(exact.more).toBe(false);
    expect(exact.kvs).toHaveLength(4);
    const filtered = h.range("\0", "\0", { minModRevision: 4n, limit: 1n });
    expect(filtered.kvs.map((kv) => kv.key.toString())).toEqual(["a"]);
    expect(filtered.more).toBe(true);
    expect(filtered.count).toBe(4n);
  });

  it("filters by min/max mod and create revisions", () => {
    expect(h.keys("\0", "\0", { maxModRevision: 4n })).toEqual(["b", "c"]);
    expect(h.keys("\0", "\0", { minCreateRevision: 3n })).toEqual(["b", "c", "e"]);
    expect(h.keys("\0", "\0", { maxCreateRevision: 2n })).toEqual(["a"]);
    expect(h.keys("\0", "\0", { minModRevision: 5n, maxModRevision: 7n })).toEqual(["a"]);
  });

  it("sorts by every target; a target other than KEY with order NONE sorts ascending", () => {
    const sorted = (sortTarget: number, sortOrder: number) => h.keys("\0", "\0", { sortTarget, sortOrder });
    expect(sorted(SortTarget.KEY, SortOrder.DESCEND)).toEqual(["e", "c", "b", "a"]);
    expect(sorted(SortTarget.KEY, SortOrder.ASCEND)).toEqual(["a", "b", "c", "e"]);
    expect(sorted(SortTarget.VERSION, SortOrder.DESCEND)).toEqual(["a", "b", "c", "e"]);
    expect(sorted(SortTarget.VERSION, SortOrder.NONE)).toEqual(["b", "c", "e", "a"]);
    expect(sorted(SortTarget.CREATE, SortOrder.DESCEND)).toEqual(["e", "c", "b", "a"]);
    expect(sorted(SortTarget.MOD, SortOrder.ASCEND)).toEqual(["b", "c", "a", "e"]);
    expect(sorted(SortTarget.MOD, SortOrder.NONE)).toEqual(["b", "c", "a", "e"]);
    expect(sorted(SortTarget.VALUE, SortOrder.ASCEND)).toEqual(["a", "b", "c", "e"]);
    // ties keep key order
    expect(sorted(SortTarget.VALUE, SortOrder.DESCEND)).toEqual(["c", "e", "a", "b"]);
  });

  it("applies the limit after sorting", () => {
    const response = h.range("\0", "\0", {
      sortTarget: SortTarget.MOD,
      sortOrder: SortOrder.DESCEND,
      limit: 2n,
    });
    expect(response.kvs.map((kv) => kv.key.toString())).toEqual(["e", "a"]);
    expect(response.more).toBe(true);
    expect(response.count).toBe(4n);
  });

  it("does not sort for an unknown sort order (etcd 3.4)", () => {
    // Values no enum member has, as a newer client or a raw request may send them.
    const unknownOrder = 7 as etcdserverpb.RangeRequest_SortOrder;
    const unknownTarget = 9 as etcdserverpb.RangeRequest_SortTarget;
    expect(h.keys("\0", "\0", { sortTarget: SortTarget.MOD, sortOrder: unknownOrder })).toEqual([
      "a",
      "b",
      "c",
      "e",
    ]);
    expect(h.keys("\0", "\0", { sortTarget: unknownTarget, sortOrder: unknownOrder, limit: 1n })).toEqual([
      "a",
    ]);
  });

  it("blanks values for keys_only and returns no kvs for count_only", () => {
    const keysOnly = h.range("a", "c", { keysOnly: true });
    expect(keysOnly.kvs.map(plain)).toEqual([
      { key: "a", value: "", create: 2, mod: 5, version: 2, lease: 0 },
      { key: "b", value: "", create: 3, mod: 3, version: 1, lease: 0 },
    ]);
    const countOnly = h.range("\0", "\0", { countOnly: true, limit: 1n });
    expect(countOnly.kvs).toEqual([]);
    expect(countOnly.count).toBe(4n);
    expect(countOnly.more).toBe(false);
  });

  it("reads history at a revision; header.revision stays the current one", () => {
    const at4 = h.range("\0", "\0", { revision: 4n });
    expect(at4.kvs.map(plain)).toEqual([
      { key: "a", value: "3", create: 2, mod: 2, version: 1, lease: 0 },
      { key: "b", value: "1", create: 3, mod: 3, version: 1, lease: 0 },
      { key: "c", value: "2", create: 4, mod: 4, version: 1, lease: 0 },
    ]);
    expect(at4.header?.revision).toBe(8n);
    expect(h.keys("d", "", { revision: 6n })).toEqual(["d"]);
    expect(h.keys("d", "", { revision: 7n })).toEqual([]);
    expect(h.keys("\0", "\0", { revision: 1n })).toEqual([]);
    expect(h.keys("a", "", { revision: -3n })).toEqual(["a"]);
    expect(h.keys("a", "", { revision: 8n })).toEqual(["a"]);
  });

  it("fails a read at a future revision", () => {
    expect(() => h.range("a", "", { revision: 9n })).toThrow(new EtcdServerError("futureRev"));
  });
});
