import { describe, expect, it } from "vitest";
import { CommitGroup } from "../../src/wal/commit-group.js";
import { decodeSegment } from "../../src/wal/decode.js";
import { batchSize, encodeMetadata, FILE_HEADER, segmentHead } from "../../src/wal/format.js";
import type { WalBatch } from "../../src/wal/index.js";

/** A segment image as the WAL writes it: its head, then one write (group commit) per batch. */
function segment(batches: WalBatch[], metadata = Buffer.from("member-1")): Buffer {
  const writes = batches.map((batch) => {
    const group = new CommitGroup(0);
    void group.add(batch, batchSize(batch), 0);
    return group.seal();
  });
  return Buffer.concat([segmentHead(encodeMetadata(metadata), {}), ...writes]);
}

const maxVote = 2n ** 64n - 1n;
const batch: WalBatch = {
  snapshot: { index: 2 ** 53 - 1, term: 7 },
  entries: [
    { index: 1, term: 1, data: Buffer.alloc(0) },
    { index: 2, term: 2 ** 40, data: Buffer.from("hello") },
    { index: 3, term: 3, data: Buffer.alloc(70_000, 0xab) },
  ],
  hardState: { term: 9, vote: maxVote, commit: 2 },
};

describe("wal framing", () => {
  it("decodes every record kind back to what was encoded, in order", () => {
    const decoded = decodeSegment(segment([batch, { hardState: { term: 0, vote: 0n, commit: 0 } }]));
    expect(decoded.damage).toBeUndefined();
    expect(decoded.records.map((r) => r.type)).toEqual([
      "metadata",
      "commit",
      "snapshot",
      "entry",
      "entry",
      "entry",
      "hardState",
      "commit",
      "hardState",
      "commit",
    ]);
    expect(decoded.records[0]).toEqual({ type: "metadata", metadata: Buffer.from("member-1") });
    expect(decoded.records[2]).toEqual({ type: "snapshot", snapshot: { index: 2 ** 53 - 1, term: 7 } });
    expect(decoded.records.slice(3, 6)).toEqual(batch.entries!.map((e) => ({ type: "entry", entry: e })));
    expect(decoded.records[6]).toEqual({
      type: "hardState",
      hardState: { term: 9, vote: maxVote, commit: 2 },
    });
    expect(decoded.recordOffsets[0]).toBe(FILE_HEADER.length);
  });

  it("rejects a file that does not start with the file header", () => {
    const buf = segment([batch]);
    buf[0] = 0x58;
    expect(decodeSegment(buf).damage).toEqual({ offset: 0, reason: "bad segment file header", torn: false });
  });

  it("reads zeros that run to the end as room after the records, and zeros before a record as damage", () => {
    const good = segment([batch]);
    const decoded = decodeSegment(Buffer.concat([good, Buffer.alloc(4096)]));
    expect(decoded.records).toHaveLength(8);
    expect(decoded.validBytes).toBe(good.length);
    expect(decoded.damage).toBeUndefined();
    const gap = decodeSegment(Buffer.concat([good, Buffer.alloc(4096), Buffer.from([1])]));
    expect(gap.validBytes).toBe(good.length);
    expect(gap.damage).toMatchObject({ offset: good.length, reason: "bad record header", torn: true });
  });

  it("calls a record cut by the end of the file torn, at every cut point", () => {
    const good = segment([{ entries: [batch.entries![1]!] }]);
    const full = segment([{ entries: [batch.entries![1]!] }, { entries: [batch.entries![2]!] }]);
    const commitStart = full.length - 12;
    for (let cut = good.length + 1; cut < full.length; cut += cut < commitStart - 100 ? 97 : 1) {
      const decoded = decodeSegment(full.subarray(0, cut));
      // A cut at or inside the final commit record leaves the entry before it whole. A cut that
      // leaves only zeros of it (its length field) looks like preallocated room: no damage.
      expect(decoded.validBytes).toBe(cut < commitStart ? good.length : commitStart);
      const onlyZerosLeft = cut >= commitStart && full.subarray(commitStart, cut).every((b) => b === 0);
      expect(decoded.damage?.torn).toBe(onlyZerosLeft ? undefined : true);
    }
  });

  it("detects a flipped bit anywhere in a record", () => {
    const good = segment([]);
    const full = segment([{ entries: [batch.entries![1]!] }]);
    for (let at = good.length; at < full.length - 12; at++) {
      const copy = Buffer.from(full);
      copy[at]! ^= 0x10;
      const decoded = decodeSegment(copy);
      expect(decoded.records).toHaveLength(2);
      expect(decoded.damage?.offset).toBe(good.length);
    }
  });

  const small: WalBatch = { entries: [batch.entries![1]!] };
  const large: WalBatch = { entries: [batch.entries![2]!] };

  it("calls damage in the last write torn, even when good records of that write follow it", () => {
    const start = segment([small]).length;
    const buf = segment([small, { entries: [batch.entries![2]!, batch.entries![1]!] }]);
    buf.fill(0, start + 1024, start + 1536); // a sector inside the 70 kB entry that was never written
    expect(decodeSegment(buf).damage).toMatchObject({
      offset: start,
      reason: "record crc mismatch",
      torn: true,
    });
  });

  it("calls damage followed by a complete later write corruption", () => {
    const start = segment([small]).length;
    const buf = segment([small, large, small]);
    buf.fill(0, start + 1024, start + 1536); // zeros inside an acknowledged write are not a tear
    expect(decodeSegment(buf).damage).toMatchObject({
      offset: start,
      reason: "record crc mismatch",
      torn: false,
    });
  });

  it("calls a damaged commit record followed by a complete write corruption, header or not", () => {
    const commit = segment([small]).length - 12;
    for (let at = commit; at < commit + 12; at++) {
      const buf = segment([small, small]);
      buf[at]! ^= 0x04;
      expect(decodeSegment(buf).damage).toMatchObject({ offset: commit, torn: false });
    }
  });

  it("does not trust a corrupted length: the damage stays corruption when writes follow", () => {
    const first = segment([]);
    const buf = segment([small, small, small]);
    buf.writeUInt32LE(1_000_000, first.length); // a length that would swallow the rest of the file
    const decoded = decodeSegment(buf);
    expect(decoded.damage).toMatchObject({ offset: first.length, reason: "bad record header", torn: false });
  });
});
