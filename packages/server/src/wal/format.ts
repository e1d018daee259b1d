/**
 * The WAL's on-disk format (ours; not etcd's protobuf records).
 *
 * Segment file `<seq:016x>-<firstIndex:016x>.wal`: `seq` counts segments from 0 without gaps;
 * `firstIndex` is the index expected next when the segment was started (informational).
 *
 * A segment starts with an 8-byte file header: ASCII `KWAL` + uint32 LE format version (1), then
 * a `metadata` record, then the current `snapshot` and `hardState` records when there are any, so
 * every segment is self-contained once older ones are released, then a `commit` record. Then
 * records, in writes (group commits) that each end with a `commit` record, up to the end of the
 * file or to zeros that run to the end: room written ahead of the records (preallocation), so that
 * an O_DSYNC write or fdatasync need not also commit a new file size to the file system's journal.
 *
 * Record (all integers little-endian):
 * ```
 * 0  u32  payloadLength          (<= MAX_PAYLOAD_BYTES)
 * 4  u8   type                   (1 metadata, 2 entry, 3 hardState, 4 snapshot, 5 commit,
 *                                 6 confEntry; 0 is never valid)
 * 5  u8   flags                  (0; reserved)
 * 6  u16  headerCheck            low 16 bits of crc32c(bytes 0..6)
 * 8  ...  payload
 * .  u32  crc                    crc32c(bytes 0 .. 8 + payloadLength)
 * ```
 * Payloads: metadata = opaque bytes; entry and confEntry (a Raft membership change) = u64 index,
 * u64 term, data; hardState = u64 term, u64 vote, u64 commit; snapshot = u64 index, u64 term, then
 * optionally the membership at that index: u32 voter count, u64 ids, u32 learner count, u64 ids;
 * commit = empty.
 *
 * Why the header check: a torn or flipped length must not make the reader skip over (and so drop)
 * acknowledged records; a length is trusted only when its own check passes. A file of zeros never
 * decodes (type 0), and a record never straddles segments (a batch is written whole into one file).
 *
 * Why commit records: they tell which write a record belongs to. A crash can tear only the last
 * write (each write is fdatasync'd before the next starts), and a torn write may leave any of its
 * sectors unwritten, so good records can follow a bad one. After a bad record, a reader that sees
 * no commit record, or only the last one ending the file, is looking at the torn last write; more
 * commit records mean that acknowledged writes follow: corruption. (Damage inside the last write
 * is taken for a tear even if that write had been acknowledged: the two cannot be told apart.)
 */
import { crc32c } from "@node-rs/crc32";
import type { HardState, WalBatch, WalEntry, WalSnapshot } from "./types.js";

/** File header: magic `KWAL` + format version 1. */
export const FILE_HEADER = Buffer.from([0x4b, 0x57, 0x41, 0x4c, 1, 0, 0, 0]);
/** Bytes before the payload. */
export const RECORD_HEADER_BYTES = 8;
/** Bytes of a record beyond its payload (header + trailing crc). */
export const RECORD_OVERHEAD_BYTES = RECORD_HEADER_BYTES + 4;
/** Upper bound of one record's payload; a larger length in a header means corruption. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** Record type codes. */
export const RecordType = {
  metadata: 1,
  entry: 2,
  hardState: 3,
  snapshot: 4,
  commit: 5,
  confEntry: 6,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const ENTRY_FIXED_BYTES = 16;
const HARD_STATE_BYTES = 24;
const SNAPSHOT_BYTES = 16;
const TWO_POW_32 = 2 ** 32;

/** True when `type` is a known record type. */
export function isRecordType(type: number): type is RecordType {
  return type >= RecordType.metadata && type <= RecordType.confEntry;
}

/** The 16-bit check of a record header starting at `offset` (covers length, type, flags). */
export function headerCheck(buf: Buffer, offset: number): number {
  return crc32c(buf.subarray(offset, offset + 6)) & 0xffff;
}

/** Size in bytes of the records that {@link encodeBatch} writes for `batch`. */
export function batchSize(batch: WalBatch): number {
  let size = 0;
  if (batch.snapshot !== undefined) size += RECORD_OVERHEAD_BYTES + snapshotPayloadBytes(batch.snapshot);
  for (const entry of batch.entries ?? [])
    size += RECORD_OVERHEAD_BYTES + ENTRY_FIXED_BYTES + entry.data.length;
  if (batch.hardState !== undefined) size += RECORD_OVERHEAD_BYTES + HARD_STATE_BYTES;
  return size;
}

/**
 * Encodes `batch` into `buf` at `offset` (snapshot, entries, hardState) and returns the offset after
 * it. `buf` must have {@link batchSize} bytes free there.
 */
export function encodeBatch(buf: Buffer, offset: number, batch: WalBatch): number {
  let at = offset;
  if (batch.snapshot !== undefined) at = encodeSnapshot(buf, at, batch.snapshot);
  for (const entry of batch.entries ?? []) at = encodeEntry(buf, at, entry);
  if (batch.hardState !== undefined) at = encodeHardState(buf, at, batch.hardState);
  return at;
}

/** Bytes of a commit record (it has no payload). */
export const COMMIT_RECORD_BYTES = RECORD_OVERHEAD_BYTES;

/** Encodes the commit record that ends a write at `offset`; returns the offset after it. */
export function encodeCommit(buf: Buffer, offset: number): number {
  beginRecord(buf, offset, RecordType.commit, 0);
  return endRecord(buf, offset, 0);
}

/** Every commit record is these same bytes (no payload), which lets a reader recognise a damaged one. */
export const COMMIT_RECORD: Buffer = Buffer.alloc(COMMIT_RECORD_BYTES);
encodeCommit(COMMIT_RECORD, 0);

/** The head of a new segment: file header, metadata record, `state` records, commit record. */
export function segmentHead(metadataRecord: Buffer, state: WalBatch): Buffer {
  const head = Buffer.allocUnsafe(
    FILE_HEADER.length + metadataRecord.length + batchSize(state) + COMMIT_RECORD_BYTES,
  );
  FILE_HEADER.copy(head, 0);
  metadataRecord.copy(head, FILE_HEADER.length);
  encodeCommit(head, encodeBatch(head, FILE_HEADER.length + metadataRecord.length, state));
  return head;
}

/** A standalone metadata record. */
export function encodeMetadata(metadata: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(RECORD_OVERHEAD_BYTES + metadata.length);
  const payload = beginRecord(buf, 0, RecordType.metadata, metadata.length);
  buf.set(metadata, payload);
  endRecord(buf, 0, metadata.length);
  return buf;
}

function encodeEntry(buf: Buffer, offset: number, entry: WalEntry): number {
  const length = ENTRY_FIXED_BYTES + entry.data.length;
  const type = entry.confChange === true ? RecordType.confEntry : RecordType.entry;
  const payload = beginRecord(buf, offset, type, length);
  writeU64(buf, payload, entry.index);
  writeU64(buf, payload + 8, entry.term);
  buf.set(entry.data, payload + ENTRY_FIXED_BYTES);
  return endRecord(buf, offset, length);
}

function encodeHardState(buf: Buffer, offset: number, state: HardState): number {
  const payload = beginRecord(buf, offset, RecordType.hardState, HARD_STATE_BYTES);
  writeU64(buf, payload, state.term);
  buf.writeBigUInt64LE(state.vote, payload + 8);
  writeU64(buf, payload + 16, state.commit);
  return endRecord(buf, offset, HARD_STATE_BYTES);
}

function snapshotPayloadBytes(snapshot: WalSnapshot): number {
  const { confState } = snapshot;
  if (confState === undefined) return SNAPSHOT_BYTES;
  return SNAPSHOT_BYTES + 8 + 8 * (confState.voters.length + confState.learners.length);
}

function encodeSnapshot(buf: Buffer, offset: number, snapshot: WalSnapshot): number {
  const length = snapshotPayloadBytes(snapshot);
  const payload = beginRecord(buf, offset, RecordType.snapshot, length);
  writeU64(buf, payload, snapshot.index);
  writeU64(buf, payload + 8, snapshot.term);
  let at = payload + SNAPSHOT_BYTES;
  for (const ids of snapshot.confState ? [snapshot.confState.voters, snapshot.confState.learners] : []) {
    buf.writeUInt32LE(ids.length, at);
    at += 4;
    for (const id of ids) {
      buf.writeBigUInt64LE(id, at);
      at += 8;
    }
  }
  return endRecord(buf, offset, length);
}

/** Writes the header of a record at `offset`; returns the payload's offset. */
function beginRecord(buf: Buffer, offset: number, type: RecordType, length: number): number {
  buf.writeUInt32LE(length, offset);
  buf[offset + 4] = type;
  buf[offset + 5] = 0;
  buf.writeUInt16LE(headerCheck(buf, offset), offset + 6);
  return offset + RECORD_HEADER_BYTES;
}

/** Writes the trailing crc of the record at `offset`; returns the offset after the record. */
function endRecord(buf: Buffer, offset: number, length: number): number {
  const end = offset + RECORD_HEADER_BYTES + length;
  buf.writeUInt32LE(crc32c(buf.subarray(offset, end)), end);
  return end + 4;
}

function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value % TWO_POW_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_POW_32), offset + 4);
}

/** Whether records of `type` have a payload of one fixed size. */
export function hasFixedPayload(type: RecordType): boolean {
  return type === RecordType.hardState || type === RecordType.commit;
}

/** Reads a u64 written by {@link writeU64}; `undefined` when it exceeds a safe integer. */
export function readU64(buf: Buffer, offset: number): number | undefined {
  const high = buf.readUInt32LE(offset + 4);
  if (high >= 2 ** 21) return undefined;
  return high * TWO_POW_32 + buf.readUInt32LE(offset);
}

/** Payload sizes by type: exact for fixed records (commit: 0), minimum for the others. */
export function minPayloadBytes(type: RecordType): number {
  switch (type) {
    case RecordType.entry:
    case RecordType.confEntry:
      return ENTRY_FIXED_BYTES;
    case RecordType.hardState:
      return HARD_STATE_BYTES;
    case RecordType.snapshot:
      return SNAPSHOT_BYTES;
    default:
      return 0;
  }
}
