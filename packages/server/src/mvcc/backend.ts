import type {
  BackendEntry,
  BackendSize,
  KvBackend,
  KvReader,
  KvSnapshot,
  RecordTable,
} from "./kv-backend.js";
import { decodeRevision, encodeRevision, REV_BYTES } from "./revision.js";
import { WriteBuffer } from "./write-buffer.js";

export type { BackendEntry, BackendSize } from "./kv-backend.js";

/** One granted lease as the `lease` table stores it. */
export interface StoredLease {
  id: bigint;
  /** Granted TTL in seconds (after raising it to the minimum). */
  ttlSeconds: number;
}

/** Where the stored state stands in the log: the last applied entry's index and term. */
export interface LogPoint {
  index: number;
  term: number;
}

const META_APPLIED_INDEX = "consistent_index";
const META_APPLIED_TERM = "term";
const META_SCHEDULED_COMPACT = "scheduledCompactRev";
const META_FINISHED_COMPACT = "finishedCompactRev";

/**
 * The MVCC store's backend, laid out like etcd's bbolt: a `key` table of revision -> KeyValue, a
 * `lease` table of lease id -> granted TTL, `members` and `members_removed` tables of the cluster's
 * membership (cluster/membership.ts), and a `meta` table with the applied log index and
 * term and the compaction marks.
 *
 * Writes go to an in-memory {@link WriteBuffer} and are visible to every read at once; {@link commit}
 * moves them to the {@link KvBackend} in one durable transaction, off the request path (etcd's
 * batch tx + write buffer). Reads see buffer + committed data as one state, also while a commit
 * is in flight (its layer stays readable until the commit resolves). The applied index is written
 * with the data it covers, so after a crash the committed state is exactly "entries up to the
 * stored applied index" and the WAL replays the rest.
 */
export class Backend {
  private active = new WriteBuffer();
  /** The layer being committed, readable until its commit resolves. */
  private committing: WriteBuffer | undefined;
  private commitTail: Promise<void> = Promise.resolve();
  /** Where committed data is read: the backend, or a snapshot it was pinned to (see {@link pin}). */
  private reader: KvReader;

  /** `kv`: the key-value backend it commits to (a snapshot restore replaces its content). */
  constructor(readonly kv: KvBackend) {
    this.reader = kv;
  }

  /**
   * Makes every later read of committed data go to `snapshot`: the state it shows stays readable
   * while the key-value backend is replaced under it (a snapshot restore builds a new Backend).
   */
  pin(snapshot: KvSnapshot): void {
    this.reader = snapshot;
  }

  /** Writes recorded and not yet handed to a commit. */
  get pendingWrites(): number {
    return this.active.writes;
  }

  /** Value stored at a revision key, or undefined. */
  get(revKey: Buffer): Buffer | undefined {
    for (const layer of this.layersNewestFirst()) {
      const value = layer.lookup(revKey);
      if (value !== undefined) return value ?? undefined;
    }
    return this.reader.get("key", revKey);
  }

  /** Stores a revision; it must be newer than every stored one. */
  put(revKey: Buffer, value: Buffer): void {
    this.active.put(revKey, value);
  }

  /** Deletes a revision. */
  remove(revKey: Buffer): void {
    this.active.remove(revKey);
  }

  /**
   * Stored revisions from key `from` (inclusive) through main revision `toMain`, oldest first, at
   * most `limit` (0 = all). Consume it within one event-loop turn: a commit in between would move
   * entries from the buffer to the committed part under the iteration.
   */
  *scan(from: Buffer, toMain: number, limit = 0): Generator<BackendEntry> {
    if (toMain < 0) return;
    const end = encodeRevision(toMain + 1, 0);
    const layers = this.layersNewestFirst();
    const removedAbove = (latin1: string, newerThan: number) =>
      layers.some((layer, i) => i < newerThan && layer.removes(latin1));
    const anyRemoved = layers.some((layer) => layer.removed.size > 0);
    // Every revision from the oldest buffered put on is in the layers. A commit is visible in the
    // backend before it is flushed and its layer dropped, so the backend may hold some of them
    // too: it is read only below that key, or a scan would yield them twice.
    const firstBuffered = layers.findLast((layer) => layer.firstPut !== undefined)?.firstPut;
    const committedEnd =
      firstBuffered !== undefined && Buffer.compare(firstBuffered, end) < 0 ? firstBuffered : end;
    let n = 0;
    const committed =
      Buffer.compare(from, committedEnd) < 0 ? this.reader.range("key", from, committedEnd) : [];
    for (const entry of committed) {
      if (anyRemoved && removedAbove(entry.key.toString("latin1"), layers.length)) continue;
      yield entry;
      if (limit > 0 && ++n >= limit) return;
    }
    // Buffered revisions are newer than every committed one: they follow in key order.
    for (let i = layers.length - 1; i >= 0; i--) {
      for (const entry of (layers[i] as WriteBuffer).puts(from, end)) {
        if (i > 0 && removedAbove(entry.key.toString("latin1"), i)) continue;
        yield entry;
        if (limit > 0 && ++n >= limit) return;
      }
    }
  }

  /** Stores a granted lease; the id is 8 bytes big-endian two's complement, as etcd keys it. */
  putLease(lease: StoredLease): void {
    const ttl = Buffer.alloc(8);
    ttl.writeBigInt64BE(BigInt(lease.ttlSeconds));
    this.putRecord("lease", leaseKey(lease.id), ttl);
  }

  /** Removes a lease record. */
  removeLease(id: bigint): void {
    this.removeRecord("lease", leaseKey(id));
  }

  /** Every stored lease. */
  *leases(): Generator<StoredLease> {
    for (const { key, value } of this.records("lease")) {
      yield { id: key.readBigInt64BE(0), ttlSeconds: Number(value.readBigInt64BE(0)) };
    }
  }

  /** Stores (or replaces) the record `key` of a record table. */
  putRecord(table: RecordTable, key: Buffer, value: Buffer): void {
    this.active.records[table].set(key.toString("latin1"), value);
    this.active.writes++;
  }

  /** Removes the record `key` of a record table. */
  removeRecord(table: RecordTable, key: Buffer): void {
    this.active.records[table].set(key.toString("latin1"), undefined);
    this.active.writes++;
  }

  /** Every record of a record table: buffered ones first, then committed ones, in no set order. */
  *records(table: RecordTable): Generator<BackendEntry> {
    const seen = new Set<string>();
    for (const layer of this.layersNewestFirst()) {
      for (const [latin1, value] of layer.records[table]) {
        if (seen.has(latin1)) continue;
        seen.add(latin1);
        if (value !== undefined) yield { key: Buffer.from(latin1, "latin1"), value };
      }
    }
    for (const entry of this.reader.range(table, undefined, undefined)) {
      if (!seen.has(entry.key.toString("latin1"))) yield entry;
    }
  }

  /** The applied log index stored with the data (0 for a new backend). */
  get appliedIndex(): number {
    return readUint(this.meta(META_APPLIED_INDEX));
  }

  /** The term of the entry at {@link appliedIndex} (0 for a new backend). */
  get appliedTerm(): number {
    return readUint(this.meta(META_APPLIED_TERM));
  }

  /** The applied index and term of the committed (durable) state, without the buffer. */
  get committed(): LogPoint {
    return readAppliedPoint(this.reader);
  }

  /** Stores the applied log index and its entry's term, with the data they cover. */
  setApplied(point: LogPoint): void {
    this.setMeta(META_APPLIED_INDEX, writeUint(point.index));
    this.setMeta(META_APPLIED_TERM, writeUint(point.term));
  }

  /** Scheduled (logical) compaction revision, or -1. */
  get scheduledCompact(): number {
    return readCompactMark(this.meta(META_SCHEDULED_COMPACT));
  }

  /** Finished (physical) compaction revision, or -1. */
  get finishedCompact(): number {
    return readCompactMark(this.meta(META_FINISHED_COMPACT));
  }

  /** Stores the scheduled compaction revision. */
  setScheduledCompact(rev: number): void {
    this.setMeta(META_SCHEDULED_COMPACT, encodeRevision(rev, 0));
  }

  /** Stores the finished compaction revision. */
  setFinishedCompact(rev: number): void {
    this.setMeta(META_FINISHED_COMPACT, encodeRevision(rev, 0));
  }

  /** Sizes of the committed data (the buffer holds at most one commit interval's writes). */
  size(): BackendSize {
    return this.kv.size();
  }

  /**
   * Commits every write recorded so far in one durable transaction; resolves when it (and every
   * earlier commit) is durable. Commits run one at a time, in order; writes recorded meanwhile go
   * to the next one.
   */
  commit(): Promise<void> {
    this.commitTail = this.commitTail.then(() => this.commitLayer());
    return this.commitTail;
  }

  private async commitLayer(): Promise<void> {
    if (this.active.writes === 0) return;
    const layer = this.active;
    this.committing = layer;
    this.active = new WriteBuffer();
    try {
      await this.kv.commit(layer.toWrites());
    } finally {
      this.committing = undefined;
    }
  }

  /** Closes the key-value backend; uncommitted writes are dropped (the WAL still holds them). */
  close(): Promise<void> {
    return this.kv.close();
  }

  private layersNewestFirst(): WriteBuffer[] {
    return this.committing === undefined ? [this.active] : [this.active, this.committing];
  }

  private meta(key: string): Buffer | undefined {
    for (const layer of this.layersNewestFirst()) {
      const value = layer.meta.get(key);
      if (value !== undefined) return value;
    }
    return this.reader.get("meta", Buffer.from(key, "latin1"));
  }

  private setMeta(key: string, value: Buffer): void {
    this.active.meta.set(key, value);
    this.active.writes++;
  }
}

/** The applied index and term stored in committed data (zeros for a new backend). */
export function readAppliedPoint(reader: KvReader): LogPoint {
  const read = (key: string) => readUint(reader.get("meta", Buffer.from(key, "latin1")));
  return { index: read(META_APPLIED_INDEX), term: read(META_APPLIED_TERM) };
}

function leaseKey(id: bigint): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigInt64BE(id);
  return key;
}

function writeUint(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}

function readUint(bytes: Buffer | undefined): number {
  return bytes === undefined ? 0 : Number(bytes.readBigUInt64BE(0));
}

function readCompactMark(bytes: Buffer | undefined): number {
  if (bytes === undefined) return -1;
  if (bytes.length !== REV_BYTES) throw new Error("mvcc: bad compaction mark in the backend");
  return decodeRevision(bytes).main;
}
