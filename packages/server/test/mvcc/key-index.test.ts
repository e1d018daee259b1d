import { describe, expect, it } from "vitest";
import {
  compactHistory,
  createdAt,
  isTombstoneAt,
  type KeyHistory,
  liveIndexAt,
  mainAt,
  revisionCount,
  subAt,
  versionAt,
} from "../../src/mvcc/key-history.js";
import { KeyIndex } from "../../src/mvcc/key-index.js";

/** A history as etcd's key_index.go draws it: generations oldest first, "t" marks tombstones. */
function show(h: KeyHistory | undefined): string {
  if (h === undefined) return "(removed)";
  const revs = Array.from(
    { length: revisionCount(h) },
    (_, i) => `${mainAt(h, i)}.${subAt(h, i)}${isTombstoneAt(h, i) ? "t" : ""}`,
  );
  return `{${revs.join(" ").replace(/t /g, "t} {")}}`;
}

/** The key's state at a revision: value revision, create revision and version, or absent. */
function at(h: KeyHistory, rev: number): string {
  const i = liveIndexAt(h, rev);
  return i < 0 ? "absent" : `mod ${mainAt(h, i)} create ${createdAt(h, i)} version ${versionAt(h, i)}`;
}

/** etcd's example: put(1.0) put(2.0) tombstone(3.0) put(4.0) tombstone(5.0) on "foo". */
function example(): { index: KeyIndex; h: () => KeyHistory } {
  const index = new KeyIndex();
  index.put("foo", 1, 0);
  index.put("foo", 2, 0);
  index.tombstone("foo", 3, 0);
  index.put("foo", 4, 0);
  index.tombstone("foo", 5, 0);
  return { index, h: () => index.history("foo") as KeyHistory };
}

describe("key history", () => {
  it("keeps generations and answers reads at every revision", () => {
    const { h } = example();
    expect(show(h())).toBe("{1.0 2.0 3.0t} {4.0 5.0t}");
    expect([0, 1, 2, 3, 4, 5, 6].map((rev) => at(h(), rev))).toEqual([
      "absent",
      "mod 1 create 1 version 1",
      "mod 2 create 1 version 2",
      "absent",
      "mod 4 create 4 version 1",
      "absent",
      "absent",
    ]);
  });

  it("compacts like etcd's keyIndex.compact", () => {
    const { h } = example();
    expect(show(compactHistory(h(), 1))).toBe("{1.0 2.0 3.0t} {4.0 5.0t}");
    expect(show(compactHistory(h(), 2))).toBe("{2.0 3.0t} {4.0 5.0t}");
    expect(show(compactHistory(h(), 3))).toBe("{4.0 5.0t}");
    expect(show(compactHistory(h(), 4))).toBe("{4.0 5.0t}");
    expect(show(compactHistory(h(), 5))).toBe("(removed)");
    expect(show(compactHistory(h(), 6))).toBe("(removed)");
  });

  it("keeps create revision and version numbering of a trimmed generation", () => {
    const index = new KeyIndex();
    for (let rev = 2; rev <= 6; rev++) index.put("k", rev, 1);
    const compacted = compactHistory(index.history("k") as KeyHistory, 4) as KeyHistory;
    expect(show(compacted)).toBe("{4.1 5.1 6.1}");
    expect(at(compacted, 4)).toBe("mod 4 create 2 version 3");
    expect(at(compacted, 6)).toBe("mod 6 create 2 version 5");
  });
});

describe("key index", () => {
  it("answers create revision and version like a scan of the history, after compaction too", () => {
    // Seeded walk: puts, deletes and compactions on one key; the reference recomputes each
    // revision's create revision and version from the full list of operations.
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    const index = new KeyIndex();
    const truth = new Map<number, { created: number; version: number } | undefined>();
    let live: { created: number; version: number } | undefined;
    let compactedTo = 0;
    for (let rev = 2; rev < 400; rev++) {
      if (live !== undefined && next() % 5 === 0) {
        index.tombstone("k", rev, 0);
        live = undefined;
      } else {
        const stamp = index.put("k", rev, 0);
        live = live === undefined ? { created: rev, version: 1 } : { ...live, version: live.version + 1 };
        expect(stamp).toEqual(live);
      }
      truth.set(rev, live);
      if (next() % 40 === 0) {
        compactedTo = Math.max(compactedTo, rev - 1 - (next() % 10));
        index.compactChunk(compactedTo, undefined, 10);
      }
    }
    const h = index.history("k") as KeyHistory;
    for (const [rev, state] of truth) {
      if (rev < compactedTo) continue;
      const i = liveIndexAt(h, rev);
      expect(i < 0 ? undefined : { created: createdAt(h, i), version: versionAt(h, i) }).toEqual(state);
    }
  });

  it("stamps puts with create revision and version across generations", () => {
    const index = new KeyIndex();
    expect(index.put("a", 2, 0)).toEqual({ created: 2, version: 1 });
    expect(index.put("a", 3, 0)).toEqual({ created: 2, version: 2 });
    index.tombstone("a", 4, 0);
    expect(index.put("a", 5, 1)).toEqual({ created: 5, version: 1 });
    expect(() => index.tombstone("b", 6, 0)).toThrow();
  });

  it("walks ranges in byte order, at a revision, with counts and limits", () => {
    const index = new KeyIndex();
    const keys = ["a", "ab", "b", "b\u00ff", "c"];
    keys.forEach((key, i) => {
      index.put(key, i + 2, 0);
    });
    index.tombstone("b", 7, 0);
    expect(index.keysAt({ key: "a", end: "" }, 7)).toEqual(["a", "ab", "b\u00ff", "c"]);
    expect(index.keysAt({ key: "a", end: "" }, 6)).toEqual(["a", "ab", "b", "b\u00ff", "c"]);
    expect(index.keysAt({ key: "ab", end: "c" }, 7)).toEqual(["ab", "b\u00ff"]);
    expect(index.keysAt({ key: "c", end: "a" }, 7)).toEqual([]);
    expect(index.keysAt({ key: "b", end: undefined }, 7)).toEqual([]);
    expect(index.keysAt({ key: "b", end: undefined }, 6)).toEqual(["b"]);
    expect(index.revisionsAt({ key: "a", end: "" }, 7, 2)).toEqual({ count: 4, revs: [2, 0, 3, 0] });
  });

  it("compacts in resumable chunks and removes keys with nothing left", () => {
    const index = new KeyIndex();
    for (let i = 0; i < 10; i++) {
      index.put(`k${i}`, 2 + 2 * i, 0);
      if (i % 2 === 0) index.tombstone(`k${i}`, 3 + 2 * i, 0);
    }
    let next: string | undefined;
    let steps = 0;
    do {
      next = index.compactChunk(100, next, 3);
      steps++;
    } while (next !== undefined);
    expect(steps).toBe(4);
    expect(index.size).toBe(5);
    expect(index.keysAt({ key: "k", end: "" }, 100)).toEqual(["k1", "k3", "k5", "k7", "k9"]);
  });
});
