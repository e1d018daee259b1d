/**
 * The write-ahead log: entries, Raft hard state and snapshot markers in CRC32C-framed segment
 * files, fdatasync'd with group commit before an append resolves. Format: format.ts.
 *
 * Use:
 * ```ts
 * const { wal, replay } = await Wal.open({ dir, logger, metadata }); // WalCorruptError: refuse to start
 * // re-apply replay.entries above the backend's applied index, then:
 * await wal.append({ entries: [{ index, term, data }] });           // durable once resolved
 * // once the backend has durably applied up to `index` (its own fsync'd commit):
 * await wal.append({ snapshot: { index, term } });
 * await wal.releaseBefore(index + 1);                               // deletes old segments
 * await wal.close();
 * ```
 */
export { WalCorruptError } from "./errors.js";
export { nodeWalFs, type WalFile, type WalFs, type WalOpenFlags } from "./fs.js";
export type {
  HardState,
  WalBatch,
  WalConfState,
  WalEntry,
  WalLogger,
  WalOptions,
  WalReplay,
  WalSnapshot,
  WalStats,
  WalSyncMode,
} from "./types.js";
export { DEFAULT_SEGMENT_SIZE_BYTES, Wal } from "./wal.js";
