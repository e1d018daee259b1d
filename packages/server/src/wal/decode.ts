/**
 * Reading a segment back: frames are checked (header check, length bound, crc) and the first bad
 * one is classified as a torn write or as corruption. See format.ts for the layout.
 */
import { crc32c } from "@node-rs/crc32";
import {
  FILE_HEADER,
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
  | { type: "snapshot"; snapshot: WalSnapshot };

/** The first bad frame of a segment. */
export interface SegmentDamage {
  offset: number;
  reason: string;
  /**
   * True when the damage looks like an interrupted write: the frame is cut by the end of the file,
   * part of it is an all-zero piece of a disk sector, or no valid frame follows it. Only the tail
   * of the last segment may be torn; anywhere else it is corruption.
   */
  torn: boolean;
}

/** Result of {@link decodeSegment}: the records before the first bad frame. */
export interface DecodedSegment {
  records: WalRecord[];
  /** `recordOffsets[k]` is the byte offset of `records[k]` in the file. */
  recordOffsets: number[];
  /** Offset just after the last good record (where a torn tail is cut). */
  validBytes: number;
  damage: SegmentDamage | undefined;
}

/** Sector size used to recognise torn writes (the unit a disk writes atomically). */
const SECTOR_BYTES = 512;

type Frame =
  | { ok: true; type: RecordType; end: number }
  | { ok: false; reason: string; end: number | undefined; incomplete: boolean };

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
    if (!frame.ok) {
      const torn = frame.incomplete || looksTorn(buf, offset, frame.end);
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

function readFrame(buf: Buffer, offset: number): Frame {
  if (offset + RECORD_HEADER_BYTES > buf.length) {
    return { ok: false, reason: "record header cut by end of file", end: undefined, incomplete: true };
  }
  const length = buf.readUInt32LE(offset);
  const type = buf[offset + 4]!;
  if (
    !isRecordType(type) ||
    buf[offset + 5] !== 0 ||
    length > MAX_PAYLOAD_BYTES ||
    buf.readUInt16LE(offset + 6) !== headerCheck(buf, offset)
  ) {
    return { ok: false, reason: "bad record header", end: undefined, incomplete: false };
  }
  const end = offset + RECORD_OVERHEAD_BYTES + length;
  if (end > buf.length) {
    const reason = `record cut by end of file (${end - buf.length} bytes missing)`;
    return { ok: false, reason, end, incomplete: true };
  }
  if (buf.readUInt32LE(end - 4) !== crc32c(buf.subarray(offset, end - 4))) {
    return { ok: false, reason: "record crc mismatch", end, incomplete: false };
  }
  return { ok: true, type, end };
}

function decodePayload(buf: Buffer, type: RecordType, start: number, end: number): WalRecord | string {
  const length = end - start;
  const min = minPayloadBytes(type);
  if (length < min || (type !== RecordType.entry && type !== RecordType.metadata && length !== min)) {
    return `record of type ${type} has a payload of ${length} bytes`;
  }
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
  if (type === RecordType.snapshot) return { type: "snapshot", snapshot: { index: first, term } };
  // Copy so that replayed entries do not pin the whole segment buffer in memory.
  const data = Buffer.from(buf.subarray(start + 16, end));
  return { type: "entry", entry: { index: first, term, data } };
}

/**
 * Whether a complete but bad frame at `offset` (ending at `end` when its header was readable)
 * looks like an interrupted write rather than damage to data that was once written whole.
 */
function looksTorn(buf: Buffer, offset: number, end: number | undefined): boolean {
  const frameEnd = Math.min(end ?? offset + RECORD_HEADER_BYTES, buf.length);
  return hasZeroSectorPiece(buf, offset, frameEnd) || !hasValidFrameAfter(buf, offset + 1);
}

/**
 * Whether a piece of [start, end) that lies within one disk sector is all zeros: the signature of a
 * sector the crash left unwritten (the same test as etcd's torn-entry check).
 */
function hasZeroSectorPiece(buf: Buffer, start: number, end: number): boolean {
  let pieceStart = start;
  while (pieceStart < end) {
    const pieceEnd = Math.min(end, (Math.floor(pieceStart / SECTOR_BYTES) + 1) * SECTOR_BYTES);
    if (isAllZero(buf, pieceStart, pieceEnd)) return true;
    pieceStart = pieceEnd;
  }
  return false;
}

function isAllZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Whether a complete, valid frame starts at any offset >= `from` (a scan run only on damage). */
function hasValidFrameAfter(buf: Buffer, from: number): boolean {
  for (let at = from; at + RECORD_OVERHEAD_BYTES <= buf.length; at++) {
    // Cheap filters first: most offsets fail on the type or flags byte.
    if (!isRecordType(buf[at + 4]!) || buf[at + 5] !== 0) continue;
    if (readFrame(buf, at).ok) return true;
  }
  return false;
}
