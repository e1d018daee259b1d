/**
 * The key-value transaction interface the MVCC store's {@link Backend} commits to: LMDB in the
 * server (lmdb-backend.ts), a simulated machine in the crash tests (test/sim/).
 */

/**
 * The backend's tables, laid out like etcd's bbolt buckets (`members` and `members_removed`: the
 * cluster's members and removed member ids). Every backend holds exactly these, and a snapshot
 * (snapshot-format.ts) carries all of them: a new table is added here only.
 */
export const BACKEND_TABLES = ["key", "lease", "meta", "members", "members_removed"] as const;

/** One of {@link BACKEND_TABLES}. */
export type BackendTable = (typeof BACKEND_TABLES)[number];

/** Small tables of records keyed by id, each written whole. */
export type RecordTable = "lease" | "members" | "members_removed";

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

/** One stored entry of any table, as a snapshot holds it. */
export interface TableEntry extends BackendEntry {
  table: BackendTable;
}

/** Read access to committed entries. */
export interface KvReader {
  /** The committed value of `key`, or undefined. */
  get(table: BackendTable, key: Buffer): Buffer | undefined;
  /** Committed entries with `start <= key < end` (no bound when undefined), in key order. */
  range(table: BackendTable, start: Buffer | undefined, end: Buffer | undefined): Iterable<BackendEntry>;
}

/**
 * A {@link KvReader} pinned to the committed state when it was taken (an LMDB read transaction):
 * later commits are invisible to it, and it stays readable across event-loop turns until released.
 */
export interface KvSnapshot extends KvReader {
  /** Ends the snapshot; it must not be read afterwards. Idempotent. */
  release(): void;
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
export interface KvBackend extends KvReader {
  /**
   * Writes `writes` in one transaction; resolves once it is committed AND durable. Until then the
   * writes may be invisible to {@link get} and {@link range}. Commits run one at a time.
   */
  commit(writes: readonly BackendWrite[]): Promise<void>;
  /** A consistent read view of the committed state now, until released. */
  snapshot(): KvSnapshot;
  /**
   * Replaces the whole content of every table with `entries` in ONE transaction (all or
   * nothing across a crash, like {@link commit}); resolves once durable. Not concurrent with a
   * commit: the caller waits for commits in flight first.
   */
  replaceAll(entries: readonly TableEntry[]): Promise<void>;
  /** Sizes of the committed data. */
  size(): BackendSize;
  close(): Promise<void>;
}
