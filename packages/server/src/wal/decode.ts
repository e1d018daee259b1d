/**
 * Reading a segment back: frames are checked (header check, length bound, crc) and the first bad
 * one is classified as a torn write or as corruption. See format.ts for the layout.
 */
import { crc32c } from "@node-rs/crc32";
import {
  COMMIT_RECORD,
  FILE_HEADER,
  hasFixedPayload,
  headerCheck,
  isRecordType,
  MAX_PAYLOAD_BYTES,
  minPayloadBytes,
  RECORD_HEADER_BYTES,
  RECORD_OVERHEAD_BYTES,
  RecordType,
  readU64,
} from "./format.js";
import type { HardState, WalEntry, WalSnapshot } from "./types.js";

/** One decoded record. */
export type WalRecord =
  | { type: "metadata"; metadata: Buffer }
  | { type: "entry"; entry: WalEntry }
  | { type: "hardState"; hardState: HardState }
  | { type: "snapshot"; snapshot: WalSnapshot }
  | { type: "commit" };

/** The first bad frame of a segment. */
export interface SegmentDamage {
  offset: number;
  reason: string;
  /**
   * True when the damage looks like the torn last write of the file: the frame is cut by the end
   * of the file, or what follows it holds no commit record but possibly the one that ends the
   * file (see format.ts). Only the last segment may end in a torn write; anywhere else it is
   * corruption.
   */
  torn: boolean;
}

/** Result of {@link decodeSegment}: the records before the first bad frame. */
export interface DecodedSegment {
  records: WalRecord[];
  /** `recordOffsets[k]` is the byte offset of `records[k]` in the file. */
  recordOffsets: number[];
  /**
   * Offset just after the last good record: where a torn tail is cut, and where writes continue
   * (zeros after it are preallocated room).
   */
  validBytes: number;
  damage: SegmentDamage | undefined;
}

/** Bit errors up to which damaged bytes are still taken for a commit record. */
const MAX_COMMIT_BIT_ERRORS = 4;

/** A frame read at some offset; `type` of a bad one is known when its header passed its check. */
type Frame =
  | { ok: true; type: RecordType; end: number }
  | { ok: false; reason: string; type: RecordType | undefined; incomplete: boolean };

/** Decodes every record of a segment file's contents. */
export function decodeSegment(buf: Buffer): DecodedSegment {
  if (buf.length < FILE_HEADER.length || !buf.subarray(0, FILE_HEADER.length).equals(FILE_HEADER)) {
    const damage = { offset: 0, reason: "bad segment file header", torn: false };
    return { records: [], recordOffsets: [], validBytes: 0, damage };
  }
  const records: WalRecord[] = [];
  const recordOffsets: number[] = [];
  let offset = FILE_HEADER.length;
  while (offset < buf.length) {
    const frame = readFrame(buf, offset);
    // Zeros to the end are room preallocated for writes that never came, not damage.
    if (!frame.ok && isZeroFrom(buf, offset)) break;
    if (!frame.ok) {
      const torn = frame.incomplete || isTornLastWrite(buf, offset, frame.type);
      return { records, recordOffsets, validBytes: offset, damage: { offset, reason: frame.reason, torn } };
    }
    const record = decodePayload(buf, frame.type, offset + RECORD_HEADER_BYTES, frame.end - 4);
    if (typeof record === "string") {
      return { records, recordOffsets, validBytes: offset, damage: { offset, reason: record, torn: false } };
    }
    records.push(record);
    recordOffsets.push(offset);
    offset = frame.end;
  }
  return { records, recordOffsets, validBytes: offset, damage: undefined };
}

const ZEROS = Buffer.alloc(64 * 1024);

/** Whether every byte of `buf` from `offset` on is zero. */
function isZeroFrom(buf: Buffer, offset: number): boolean {
  for (let at = offset; at < buf.length; at += ZEROS.length) {
    const end = Math.min(at + ZEROS.length, buf.length);
    if (!buf.subarray(at, end).equals(ZEROS.subarray(0, end - at))) return false;
  }
  return true;
}

function readFrame(buf: Buffer, offset: number): Frame {
  if (offset + RECORD_HEADER_BYTES > buf.length) {
    return { ok: false, reason: "record header cut by end of file", type: undefined, incomplete: true };
  }
  const length = buf.readUInt32LE(offset);
  const type = buf[offset + 4]!;
  if (
    !isRecordType(type) ||
    buf[offset + 5] !== 0 ||
    length > MAX_PAYLOAD_BYTES ||
    buf.readUInt16LE(offset + 6) !== headerCheck(buf, offset)
  ) {
    return { ok: false, reason: "bad record header", type: undefined, incomplete: false };
  }
  const end = offset + RECORD_OVERHEAD_BYTES + length;
  if (end > buf.length) {
    const reason = `record cut by end of file (${end - buf.length} bytes missing)`;
    return { ok: false, reason, type, incomplete: true };
  }
  if (buf.readUInt32LE(end - 4) !== crc32c(buf.subarray(offset, end - 4))) {
    return { ok: false, reason: "record crc mismatch", type, incomplete: false };
  }
  return { ok: true, type, end };
}

function decodePayload(buf: Buffer, type: RecordType, start: number, end: number): WalRecord | string {
  const length = end - start;
  const min = minPayloadBytes(type);
  if (length < min || (hasFixedPayload(type) && length !== min)) {
    return `record of type ${type} has a payload of ${length} bytes`;
  }
  if (type === RecordType.commit) return { type: "commit" };
  if (type === RecordType.metadata) {
    return { type: "metadata", metadata: Buffer.from(buf.subarray(start, end)) };
  }
  const first = readU64(buf, start);
  if (type === RecordType.hardState) {
    const commit = readU64(buf, start + 16);
    if (first === undefined || commit === undefined) return "hard state holds a number above 2^53";
    return { type: "hardState", hardState: { term: first, vote: buf.readBigUInt64LE(start + 8), commit } };
  }
  const term = readU64(buf, start + 8);
  if (first === undefined || term === undefined) return `record of type ${type} holds a number above 2^53`;
  if (type === RecordType.snapshot) return decodeSnapshot(buf, start, end, first, term);
  // Copy so that replayed entries do not pin the whole segment buffer in memory.
  const data = Buffer.from(buf.subarray(start + 16, end));
  const entry: WalEntry = { index: first, term, data };
  if (type === RecordType.confEntry) entry.confChange = true;
  return { type: "entry", entry };
}

/** A snapshot marker, with the membership after its index and term when the record has one. */
function decodeSnapshot(
  buf: Buffer,
  start: number,
  end: number,
  index: number,
  term: number,
): WalRecord | string {
  if (end - start === 16) return { type: "snapshot", snapshot: { index, term } };
  let at = start + 16;
  const lists: bigint[][] = [];
  for (let k = 0; k < 2; k++) {
    if (at + 4 > end) return "snapshot record: membership cut short";
    const count = buf.readUInt32LE(at);
    at += 4;
    if (at + 8 * count > end) return "snapshot record: membership cut short";
    const ids: bigint[] = [];
    for (let i = 0; i < count; i++, at += 8) ids.push(buf.readBigUInt64LE(at));
    lists.push(ids);
  }
  if (at !== end) return "snapshot record: bytes after the membership";
  const [voters = [], learners = []] = lists;
  return { type: "snapshot", snapshot: { index, term, confState: { voters, learners } } };
}

/**
 * Whether a complete but bad frame at `offset` (of `type` when its header was readable) lies in
 * the last write of the file, which a crash may have torn anywhere. It does when the valid frames
 * after it hold no commit record, or only the last write's own one, ending the records (only
 * preallocated zeros after it); then the bad frame cannot itself be a commit record. Runs only on
 * damage: scans every offset after it.
 */
function isTornLastWrite(buf: Buffer, offset: number, type: RecordType | undefined): boolean {
  let commits = 0;
  let lastCommitEnd = -1;
  let at = offset + 1;
  while (at + RECORD_OVERHEAD_BYTES <= buf.length) {
    // Cheap filters first: most offsets fail on the type or flags byte.
    const frame = isRecordType(buf[at + 4]!) && buf[at + 5] === 0 ? readFrame(buf, at) : undefined;
    if (frame?.ok !== true) {
      at++;
      continue;
    }
    if (frame.type === RecordType.commit) {
      commits++;
      lastCommitEnd = frame.end;
    }
    at = frame.end;
  }
  if (commits === 0) return true;
  const isCommit = type === RecordType.commit || (type === undefined && resemblesCommitRecord(buf, offset));
  const endsTheRecords = lastCommitEnd === buf.length || isZeroFrom(buf, lastCommitEnd);
  return commits === 1 && endsTheRecords && !isCommit;
}

/**
 * Whether the bytes at `offset` differ from a commit record by a few bits only: a commit record
 * whose header was damaged (a torn write leaves zeros, far from these bytes).
 */
function resemblesCommitRecord(buf: Buffer, offset: number): boolean {
  if (offset + COMMIT_RECORD.length > buf.length) return false;
  let differentBits = 0;
  for (let i = 0; i < COMMIT_RECORD.length; i++) {
    let diff = buf[offset + i]! ^ COMMIT_RECORD[i]!;
    for (; diff !== 0; diff &= diff - 1) differentBits++;
  }
  return differentBits <= MAX_COMMIT_BIT_ERRORS;
}
