import type { WalFs } from "./fs.js";

/** One Raft log entry as the WAL stores it. `index` and `term` are non-negative safe integers. */
export interface WalEntry {
  index: number;
  term: number;
  /** Opaque payload (the proposed request, or an encoded membership change); stored as is. */
  data: Uint8Array;
  /** A Raft membership change rather than an application command (stored as its own record type). */
  confChange?: boolean;
}

/**
 * Raft's persistent state. `vote` is a member id (0n = no vote), a full uint64, hence a bigint;
 * `term` and `commit` are safe integers.
 */
export interface HardState {
  term: number;
  vote: bigint;
  commit: number;
}

/** Marks that every entry with index <= `index` lives in a snapshot and may be dropped from the log. */
export interface WalSnapshot {
  index: number;
  term: number;
  /**
   * The membership in force at `index` (Raft's ConfState): a restarted member takes it from here,
   * then re-applies the membership changes in later entries. Absent in markers written by a
   * one-member Keyway before clusters existed (the member is then the only voter).
   */
  confState?: WalConfState;
}

/** Voting members and learners, by member id. */
export interface WalConfState {
  voters: readonly bigint[];
  learners: readonly bigint[];
}

/**
 * What one {@link Wal.append} call writes, in this order on disk: the snapshot marker, the entries,
 * then the hard state (Raft persists entries before it advertises a commit index covering them).
 */
export interface WalBatch {
  /** Contiguous ascending indexes; the first may be <= the last index so far (Raft truncation). */
  entries?: readonly WalEntry[];
  hardState?: HardState;
  snapshot?: WalSnapshot;
}

/** See {@link WalOptions.syncMode}. */
export type WalSyncMode = "fdatasync" | "o_dsync";

/** Minimal structured logger (pino-compatible). */
export interface WalLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of {@link Wal.open}. */
export interface WalOptions {
  /** WAL directory; created (with its parents) when missing. */
  dir: string;
  /** A new segment is started once the current one reaches this size. Default 64 MiB. */
  segmentSizeBytes?: number;
  logger?: WalLogger;
  /**
   * Called after every fdatasync with how long it took, in seconds: feed it to a histogram such as
   * etcd's `etcd_disk_wal_fsync_duration_seconds`.
   */
  onFsync?: (durationSeconds: number) => void;
  /**
   * Opaque bytes (member id, cluster id) written at the head of every segment. Used only when the
   * WAL is created; an existing WAL keeps the metadata it was created with (see {@link WalReplay}).
   */
  metadata?: Uint8Array;
  /**
   * How appends are made durable: `fdatasync` after each write (default), or `o_dsync` writes
   * that return once durable (one thread-pool round trip less per group commit).
   */
  syncMode?: WalSyncMode;
  /** The file system; default the real one (`nodeWalFs`). Tests inject a simulated machine. */
  fs?: WalFs;
}

/** The state recovered by {@link Wal.open}. */
export interface WalReplay {
  /** Metadata stored in the WAL; `undefined` when the WAL was just created (nothing to replay). */
  metadata: Uint8Array | undefined;
  /** Latest hard state written, if any. */
  hardState: HardState | undefined;
  /** Latest snapshot marker written, if any. */
  snapshot: WalSnapshot | undefined;
  /**
   * Entries after the snapshot, contiguous and in index order. A later write of an index replaces
   * it and drops every entry after it (Raft log truncation).
   */
  entries: WalEntry[];
}

/** Counters since {@link Wal.open}; `fsyncs` / `appends` is the group-commit ratio. */
export interface WalStats {
  /** `append()` calls that resolved. */
  appends: number;
  /** Buffers written (one per group commit). */
  writes: number;
  /** fdatasync calls on segment files, including segment creation. */
  fsyncs: number;
  bytesWritten: number;
  /** Segments started by this process. */
  segmentsCreated: number;
}
