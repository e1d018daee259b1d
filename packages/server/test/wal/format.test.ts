import { describe, expect, it } from "vitest";
import { decodeSegment } from "../../src/wal/decode.js";
import { batchSize, encodeBatch, encodeMetadata, FILE_HEADER } from "../../src/wal/format.js";
import type { WalBatch } from "../../src/wal/index.js";

/** A segment image: file header, metadata record, then the batches. */
function segment(batches: WalBatch[], metadata = Buffer.from("member-1")): Buffer {
  const records = batches.map((batch) => {
    const buf = Buffer.alloc(batchSize(batch));
    expect(encodeBatch(buf, 0, batch)).toBe(buf.length);
    return buf;
  });
  return Buffer.concat([FILE_HEADER, encodeMetadata(metadata), ...records]);
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
      "snapshot",
      "entry",
      "entry",
      "entry",
      "hardState",
      "hardState",
    ]);
    expect(decoded.records[0]).toEqual({ type: "metadata", metadata: Buffer.from("member-1") });
    expect(decoded.records[1]).toEqual({ type: "snapshot", snapshot: { index: 2 ** 53 - 1, term: 7 } });
    expect(decoded.records.slice(2, 5)).toEqual(batch.entries!.map((e) => ({ type: "entry", entry: e })));
    expect(decoded.records[5]).toEqual({
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

  it("never decodes zeros, and calls a zero-filled tail torn", () => {
    const good = segment([batch]);
    const decoded = decodeSegment(Buffer.concat([good, Buffer.alloc(4096)]));
    expect(decoded.records).toHaveLength(6);
    expect(decoded.validBytes).toBe(good.length);
    expect(decoded.damage).toMatchObject({ offset: good.length, reason: "bad record header", torn: true });
  });

  it("calls a record cut by the end of the file torn, at every cut point", () => {
    const good = segment([{ entries: [batch.entries![1]!] }]);
    const full = segment([{ entries: [batch.entries![1]!] }, { entries: [batch.entries![2]!] }]);
    for (let cut = good.length + 1; cut < full.length; cut += 97) {
      const decoded = decodeSegment(full.subarray(0, cut));
      expect(decoded.validBytes).toBe(good.length);
      expect(decoded.damage?.torn).toBe(true);
    }
  });

  it("detects a flipped bit anywhere in a record", () => {
    const good = segment([]);
    const full = segment([{ entries: [batch.entries![1]!] }]);
    for (let at = good.length; at < full.length; at++) {
      const copy = Buffer.from(full);
      copy[at]! ^= 0x10;
      const decoded = decodeSegment(copy);
      expect(decoded.records).toHaveLength(1);
      expect(decoded.damage?.offset).toBe(good.length);
    }
  });

  it("calls a bad record followed by good ones corruption, not a torn tail", () => {
    const first = segment([{ entries: [batch.entries![1]!] }]);
    const buf = segment([{ entries: [batch.entries![1]!] }, { entries: [batch.entries![2]!] }]);
    buf[first.length - 2]! ^= 0xff; // inside the crc of the first entry
    const decoded = decodeSegment(buf);
    expect(decoded.damage).toMatchObject({ reason: "record crc mismatch", torn: false });
  });

  it("calls a record with an all-zero sector piece torn even when good records follow", () => {
    const buf = segment([{ entries: [batch.entries![2]!] }, { entries: [batch.entries![1]!] }]);
    const start = segment([]).length;
    buf.fill(0, 1024, 1536); // one whole sector inside the 70 kB entry
    const decoded = decodeSegment(buf);
    expect(decoded.damage).toMatchObject({ offset: start, reason: "record crc mismatch", torn: true });
  });

  it("does not trust a corrupted length: the damage stays corruption when records follow", () => {
    const first = segment([]);
    const buf = segment([{ entries: [batch.entries![1]!] }, { entries: [batch.entries![1]!] }]);
    buf.writeUInt32LE(1_000_000, first.length); // a length that would swallow the rest of the file
    const decoded = decodeSegment(buf);
    expect(decoded.damage).toMatchObject({ offset: first.length, reason: "bad record header", torn: false });
  });
});
