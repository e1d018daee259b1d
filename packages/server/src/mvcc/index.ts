/**
 * The multi-version store: revisions {main, sub}, an in-memory key index, the LMDB backend,
 * compaction and HashKV. Request semantics (Range options, Put flags, Txn) live in ../apply.
 */
export { Backend, type BackendSize, type LogPoint, type StoredLease } from "./backend.js";
export { Compactor, type CompactorOptions } from "./compactor.js";
export { type HashKVResult, hashKV } from "./hash.js";
export { eventsSince, type RevisionEvents } from "./history.js";
export type { IndexRange } from "./key-index.js";
export type { BackendEntry, BackendTable, BackendWrite, KvBackend, RecordTable } from "./kv-backend.js";
export { LmdbBackend } from "./lmdb-backend.js";
export {
  MvccStore,
  type RangeOptions,
  type RangeResult,
  ReadView,
  type RestoreVisitor,
  toIndexRange,
  type WriteResult,
  WriteTxn,
} from "./store.js";
