import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AFTER_ALL_KEYS, type KeyRange, rangeContains, watchRange } from "../../src/watch/key-range.js";
import { WatcherIndex } from "../../src/watch/watcher-index.js";

const b = (text: string) => Buffer.from(text, "latin1");

describe("watchRange", () => {
  it("reads key and range_end as etcd does", () => {
    expect(watchRange(b("a"), b(""))).toEqual({ key: "a", end: undefined });
    expect(watchRange(b(""), b(""))).toEqual({ key: "\x00", end: undefined });
    expect(watchRange(b("a"), b("\x00"))).toEqual({ key: "a", end: AFTER_ALL_KEYS });
    expect(watchRange(b(""), b("\x00"))).toEqual({ key: "\x00", end: AFTER_ALL_KEYS });
    expect(watchRange(b("a"), b("c"))).toEqual({ key: "a", end: "c" });
    expect(watchRange(b("\xff"), b("\xff\x00"))).toEqual({ key: "\xff", end: "\xff\x00" });
  });

  it("refuses key >= range_end", () => {
    expect(watchRange(b("b"), b("b"))).toBeUndefined();
    expect(watchRange(b("b"), b("a"))).toBeUndefined();
    expect(watchRange(b(""), b("\x00\x00"))).toEqual({ key: "\x00", end: "\x00\x00" });
  });

  it("compares keys as bytes", () => {
    const range = watchRange(b("\x7f"), b("\x81")) as KeyRange;
    expect(rangeContains(range, "\x80")).toBe(true);
    expect(rangeContains(range, "\x81")).toBe(false);
    expect(rangeContains(watchRange(b("a"), b("\x00")) as KeyRange, "\xff\xff")).toBe(true);
  });
});

describe("WatcherIndex", () => {
  const key = fc.string({ unit: fc.constantFrom("a", "b", "c", "\x00", "\xff"), maxLength: 3 });
  const entry = fc
    .tuple(key, fc.oneof(fc.constant(""), fc.constant("\x00"), key))
    .map(([start, end]) => watchRange(b(start), b(end)))
    .filter((range): range is KeyRange => range !== undefined)
    .map((range) => ({ range }));

  it("finds exactly the watchers whose range holds the key, below and above the scan threshold", () => {
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 80 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(key, { minLength: 1, maxLength: 20 }),
        (entries, removals, keys) => {
          const index = new WatcherIndex<{ range: KeyRange }>();
          const live = new Set(entries);
          for (const e of entries) index.add(e);
          for (const r of removals) {
            const e = entries[r % Math.max(1, entries.length)];
            if (e === undefined) continue;
            index.delete(e);
            live.delete(e);
          }
          for (const k of keys) {
            const found = new Set<{ range: KeyRange }>();
            index.forEachMatch(k, (e) => {
              expect(found.has(e)).toBe(false);
              found.add(e);
            });
            expect(found).toEqual(new Set([...live].filter((e) => rangeContains(e.range, k))));
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});
