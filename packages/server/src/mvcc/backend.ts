import { type Database, open, type RootDatabase } from "lmdb";
import { decodeRevision, encodeRevision, REV_BYTES } from "./revision.js";

/** One stored revision as the backend scan yields it. */
export interface BackendEntry {
  /** Encoded revision (see revision.ts). */
  key: Buffer;
  /** Encoded mvccpb.KeyValue. */
  value: Buffer;
}

/** Backend sizes in bytes (etcd's dbSize / dbSizeInUse). */
export interface BackendSize {
  totalBytes: number;
  inUseBytes: number;
}

/** One granted lease as the `lease` database stores it. */
export interface StoredLease {
  id: bigint;
  /** Granted TTL in seconds (after raising it to the minimum). */
  ttlSeconds: number;
}

const META_APPLIED_INDEX = Buffer.from("consistent_index");
const META_SCHEDULED_COMPACT = Buffer.from("scheduledCompactRev");
const META_FINISHED_COMPACT = Buffer.from("finishedCompactRev");

interface LmdbStats {
  pageSize: number;
  lastPageNumber: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
}

/**
 * The LMDB backend, laid out like etcd's bbolt: a `key` database of revision -> KeyValue, a
 * `lease` database of lease id -> granted TTL, and a `meta` database with the applied log index
 * and compaction marks.
 *
 * Opened with `noSync`: durability comes from the WAL (fsync'd before apply), and a committed
 * LMDB transaction is in the OS page cache, so a killed process loses nothing; only a machine
 * crash can, and then the WAL replays entries above the applied index stored in the same
 * transaction. {@link sync} forces the data file to disk before the WAL may be truncated.
 */
export class Backend {
  private readonly root: RootDatabase<Buffer, Buffer>;
  private readonly kv: Database<Buffer, Buffer>;
  private readonly meta: Database<Buffer, Buffer>;
  private readonly lease: Database<Buffer, Buffer>;

  private constructor(dir: string) {
    this.root = open<Buffer, Buffer>({
      path: dir,
      noSync: true,
      maxDbs: 4,
      keyEncoding: "binary",
      encoding: "binary",
    });
    this.kv = this.root.openDB<Buffer, Buffer>("key", { keyEncoding: "binary", encoding: "binary" });
    this.meta = this.root.openDB<Buffer, Buffer>("meta", { keyEncoding: "binary", encoding: "binary" });
    this.lease = this.root.openDB<Buffer, Buffer>("lease", { keyEncoding: "binary", encoding: "binary" });
  }

  /** Opens (creating if needed) the backend in directory `dir`. */
  static open(dir: string): Backend {
    return new Backend(dir);
  }

  /** Runs `action` in one synchronous write transaction; its writes are visible as soon as it returns. */
  write<T>(action: () => T): T {
    return this.root.transactionSync(action);
  }

  /** Value stored at a revision key, or undefined. */
  get(revKey: Buffer): Buffer | undefined {
    return this.kv.getBinary(revKey);
  }

  /** Stores a revision (inside {@link write}). */
  put(revKey: Buffer, value: Buffer): void {
    this.kv.putSync(revKey, value);
  }

  /** Deletes a revision (inside {@link write}). */
  remove(revKey: Buffer): void {
    this.kv.removeSync(revKey);
  }

  /** Stored revisions from key `from` (inclusive) through main revision `toMain`, oldest first, at most `limit` (0 = all). */
  *scan(from: Buffer, toMain: number, limit = 0): Generator<BackendEntry> {
    if (toMain < 0) return;
    const end = encodeRevision(toMain + 1, 0);
    let n = 0;
    for (const { key, value } of this.kv.getRange({ start: from, end })) {
      yield { key, value };
      if (limit > 0 && ++n >= limit) return;
    }
  }

  /** Stores a granted lease (inside {@link write}); the id is 8 bytes big-endian two's complement, as etcd keys it. */
  putLease(lease: StoredLease): void {
    const ttl = Buffer.alloc(8);
    ttl.writeBigInt64BE(BigInt(lease.ttlSeconds));
    this.lease.putSync(leaseKey(lease.id), ttl);
  }

  /** Removes a lease record (inside {@link write}). */
  removeLease(id: bigint): void {
    this.lease.removeSync(leaseKey(id));
  }

  /** Every stored lease. */
  *leases(): Generator<StoredLease> {
    for (const { key, value } of this.lease.getRange({})) {
      yield { id: key.readBigInt64BE(0), ttlSeconds: Number(value.readBigInt64BE(0)) };
    }
  }

  /** The applied log index stored with the data (0 for a new backend). */
  get appliedIndex(): number {
    return readUint(this.meta.getBinary(META_APPLIED_INDEX));
  }

  /** Stores the applied log index (inside {@link write}, with the data it covers). */
  setAppliedIndex(index: number): void {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64BE(BigInt(index));
    this.meta.putSync(META_APPLIED_INDEX, bytes);
  }

  /** Scheduled (logical) compaction revision, or -1. */
  get scheduledCompact(): number {
    return readCompactMark(this.meta.getBinary(META_SCHEDULED_COMPACT));
  }

  /** Finished (physical) compaction revision, or -1. */
  get finishedCompact(): number {
    return readCompactMark(this.meta.getBinary(META_FINISHED_COMPACT));
  }

  /** Stores the scheduled compaction revision (inside {@link write}). */
  setScheduledCompact(rev: number): void {
    this.meta.putSync(META_SCHEDULED_COMPACT, encodeRevision(rev, 0));
  }

  /** Stores the finished compaction revision (inside {@link write}). */
  setFinishedCompact(rev: number): void {
    this.meta.putSync(META_FINISHED_COMPACT, encodeRevision(rev, 0));
  }

  /** Sizes from LMDB's page counts: the file's used extent and the pages the trees hold. */
  size(): BackendSize {
    const env = this.root.getStats() as LmdbStats;
    const pages = (s: LmdbStats) => s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
    const inUsePages =
      2 +
      pages(env) +
      pages(this.kv.getStats() as LmdbStats) +
      pages(this.meta.getStats() as LmdbStats) +
      pages(this.lease.getStats() as LmdbStats);
    return { totalBytes: (env.lastPageNumber + 1) * env.pageSize, inUseBytes: inUsePages * env.pageSize };
  }

  /** Forces every committed transaction to disk (fsync of the data file). */
  sync(): Promise<void> {
    const env = this.root as unknown as { sync(callback: (error?: Error) => void): void };
    return new Promise((resolve, reject) => env.sync((error) => (error ? reject(error) : resolve())));
  }

  /** Closes the environment. */
  close(): Promise<void> {
    return this.root.close();
  }
}

function leaseKey(id: bigint): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigInt64BE(id);
  return key;
}

function readUint(bytes: Buffer | undefined): number {
  return bytes === undefined ? 0 : Number(bytes.readBigUInt64BE(0));
}

function readCompactMark(bytes: Buffer | undefined): number {
  if (bytes === undefined) return -1;
  if (bytes.length !== REV_BYTES) throw new Error("mvcc: bad compaction mark in the backend");
  return decodeRevision(bytes).main;
}
