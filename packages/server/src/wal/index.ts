/**
 * The write-ahead log: entries, Raft hard state and snapshot markers in CRC32C-framed segment
 * files, fdatasync'd with group commit before an append resolves. Format: format.ts.
 */
export { WalCorruptError } from "./errors.js";
export type {
  HardState,
  WalBatch,
  WalEntry,
  WalLogger,
  WalOptions,
  WalReplay,
  WalSnapshot,
  WalStats,
} from "./types.js";
export { DEFAULT_SEGMENT_SIZE_BYTES, Wal } from "./wal.js";
