import { crc32c } from "@node-rs/crc32";
import { BACKEND_TABLES, type BackendTable, type KvReader, type TableEntry } from "./kv-backend.js";

/**
 * The dump of a whole backend that a Raft snapshot carries (etcd streams its bbolt file instead):
 *
 *   header   "KWSN" (4 bytes), format version (u32 BE)
 *   records  key length (u32 BE), key, value length (u32 BE), value; the key is the table name's
 *            length (u8), the table name, then the entry's key in that table. Tables follow in
 *            {@link BACKEND_TABLES} order, keys ascending within a table.
 *   trailer  record count (u64 BE), then a CRC-32C (u32 BE) of every byte before it.
 *
 * Every table is dumped, whatever it holds, so a new table is carried without changes here.
 */
const MAGIC = Buffer.from("KWSN", "latin1");
const VERSION = 1;
const HEADER_BYTES = MAGIC.length + 4;
const TRAILER_BYTES = 8 + 4;
/** Bytes of output buffered before a chunk is closed (and its CRC folded in). */
const CHUNK_BYTES = 1 << 20;
/** Records written between two looks at the clock. */
const RECORDS_PER_CLOCK_CHECK = 64;
/** Work done between two yields to the event loop, in ms. */
const SLICE_MS = 1;

const TABLE_NAMES = new Map<BackendTable, Buffer>(BACKEND_TABLES.map((name) => [name, Buffer.from(name)]));

/** Accumulates the dump in chunks and folds each finished chunk into the running CRC. */
class DumpWriter {
  private readonly chunks: Buffer[] = [];
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private position = 0;
  private crc = 0;
  records = 0;

  constructor() {
    MAGIC.copy(this.buffer, 0);
    this.buffer.writeUInt32BE(VERSION, MAGIC.length);
    this.position = HEADER_BYTES;
  }

  record(name: Buffer, key: Buffer, value: Buffer): void {
    const keyBytes = 1 + name.length + key.length;
    this.reserve(4 + keyBytes + 4 + value.length);
    const out = this.buffer;
    let at = out.writeUInt32BE(keyBytes, this.position);
    at = out.writeUInt8(name.length, at);
    at += name.copy(out, at);
    at += key.copy(out, at);
    at = out.writeUInt32BE(value.length, at);
    this.position = at + value.copy(out, at);
    this.records++;
  }

  /** Appends the trailer and returns the whole dump. */
  finish(): Buffer {
    this.reserve(TRAILER_BYTES);
    this.position = this.buffer.writeBigUInt64BE(BigInt(this.records), this.position);
    this.closeChunk();
    const crc = Buffer.allocUnsafe(4);
    crc.writeUInt32BE(this.crc >>> 0);
    return Buffer.concat([...this.chunks, crc]);
  }

  private reserve(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    this.closeChunk();
    this.buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    this.position = 0;
  }

  private closeChunk(): void {
    const chunk = this.buffer.subarray(0, this.position);
    this.crc = crc32c(chunk, this.crc);
    this.chunks.push(chunk);
  }
}

/**
 * Dumps every table of `reader` (a snapshot: it must not change meanwhile). The event loop runs
 * between slices of about a millisecond of work; each slice reopens the table's range after the
 * last key it wrote.
 */
export async function encodeSnapshot(reader: KvReader, pause: () => Promise<void>): Promise<Buffer> {
  const writer = new DumpWriter();
  for (const [table, name] of TABLE_NAMES) {
    let from: Buffer | undefined;
    for (;;) {
      const sliceEnd = performance.now() + SLICE_MS;
      let resumeAt: Buffer | undefined;
      let n = 0;
      for (const { key, value } of reader.range(table, from, undefined)) {
        writer.record(name, key, value);
        if (++n % RECORDS_PER_CLOCK_CHECK === 0 && performance.now() >= sliceEnd) {
          // The smallest key above `key`: the next slice starts right after it.
          resumeAt = Buffer.concat([key, Buffer.alloc(1)]);
          break;
        }
      }
      if (resumeAt === undefined) break;
      from = resumeAt;
      await pause();
    }
  }
  return writer.finish();
}

function invalid(why: string): Error {
  return new Error(`snapshot: invalid dump: ${why}`);
}

/**
 * Checks a whole dump (magic, version, CRC, every length, table names, key order, record count)
 * and returns its entries, which are views into `data`. Throws a plain Error naming the first
 * problem; nothing is returned for a dump that is not entirely valid.
 */
export function decodeSnapshot(data: Uint8Array): TableEntry[] {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) throw invalid(`${bytes.length} bytes is too short`);
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw invalid("bad magic");
  const version = bytes.readUInt32BE(MAGIC.length);
  if (version !== VERSION) throw invalid(`unsupported format version ${version}`);
  const crcAt = bytes.length - 4;
  if (crc32c(bytes.subarray(0, crcAt)) >>> 0 !== bytes.readUInt32BE(crcAt)) throw invalid("CRC mismatch");
  const end = bytes.length - TRAILER_BYTES;
  const count = bytes.readBigUInt64BE(end);
  const entries: TableEntry[] = [];
  let at = HEADER_BYTES;
  let previous: TableEntry | undefined;
  const field = () => {
    if (at + 4 > end) throw invalid(`record ${entries.length} is truncated`);
    const length = bytes.readUInt32BE(at);
    if (at + 4 + length > end) throw invalid(`record ${entries.length} overruns the dump`);
    at += 4 + length;
    return bytes.subarray(at - length, at);
  };
  while (at < end) {
    const key = field();
    const value = field();
    const nameEnd = 1 + (key[0] ?? key.length);
    const table = nameEnd <= key.length ? tableNamed(key.subarray(1, nameEnd)) : undefined;
    if (table === undefined) throw invalid(`record ${entries.length} names no known table`);
    const entry: TableEntry = { table, key: key.subarray(nameEnd), value };
    if (previous !== undefined && !isAfter(entry, previous))
      throw invalid(`record ${entries.length} is out of order`);
    entries.push(entry);
    previous = entry;
  }
  if (BigInt(entries.length) !== count) throw invalid(`${entries.length} records, trailer says ${count}`);
  return entries;
}

function tableNamed(name: Buffer): BackendTable | undefined {
  for (const [table, bytes] of TABLE_NAMES) if (bytes.equals(name)) return table;
  return undefined;
}

/** Dump order: tables in {@link BACKEND_TABLES} order, keys strictly ascending within one. */
function isAfter(entry: TableEntry, previous: TableEntry): boolean {
  const order = BACKEND_TABLES.indexOf(entry.table) - BACKEND_TABLES.indexOf(previous.table);
  return order > 0 || (order === 0 && Buffer.compare(previous.key, entry.key) < 0);
}
