/**
 * The key-value transaction interface the MVCC store's {@link Backend} commits to: LMDB in the
 * server (lmdb-backend.ts), a simulated machine in the crash tests (test/sim/).
 */

/**
 * Small tables of records keyed by id, each written whole: leases, and the cluster's members and
 * removed member ids (etcd's `members` and `members_removed` buckets).
 */
export type RecordTable = "lease" | "members" | "members_removed";

/** The backend's tables, laid out like etcd's bbolt buckets. */
export type BackendTable = "key" | "meta" | RecordTable;

/** One write of a commit: a put, or a delete when `value` is undefined. */
export interface BackendWrite {
  table: BackendTable;
  key: Buffer;
  value: Buffer | undefined;
}

/** One stored entry as a range yields it. */
export interface BackendEntry {
  key: Buffer;
  value: Buffer;
}

/** Backend sizes in bytes (etcd's dbSize / dbSizeInUse). */
export interface BackendSize {
  totalBytes: number;
  inUseBytes: number;
}

/**
 * A transactional, ordered key-value store with an all-or-nothing commit. Invariant the crash
 * tests rely on: after a crash of the machine at any moment, the store opens and holds exactly
 * the writes of some prefix of its commits, and every commit whose promise resolved is in it.
 */
export interface KvBackend {
  /** The committed value of `key`, or undefined. */
  get(table: BackendTable, key: Buffer): Buffer | undefined;
  /** Committed entries with `start <= key < end` (no bound when undefined), in key order. */
  range(table: BackendTable, start: Buffer | undefined, end: Buffer | undefined): Iterable<BackendEntry>;
  /**
   * Writes `writes` in one transaction; resolves once it is committed AND durable. Until then the
   * writes may be invisible to {@link get} and {@link range}. Commits run one at a time.
   */
  commit(writes: readonly BackendWrite[]): Promise<void>;
  /** Sizes of the committed data. */
  size(): BackendSize;
  close(): Promise<void>;
}
