/**
 * The multi-version store: revisions {main, sub}, an in-memory key index, the LMDB backend,
 * compaction and HashKV. Request semantics (Range options, Put flags, Txn) live in ../apply.
 */
export {
  Backend,
  type BackendSize,
  type LogPoint,
  readAppliedPoint,
  type StoredLease,
} from "./backend.js";
export { Compactor, type CompactorOptions } from "./compactor.js";
export { type HashKVResult, hashKV } from "./hash.js";
export { eventsSince, type RevisionEvents } from "./history.js";
export type { IndexRange } from "./key-index.js";
export {
  BACKEND_TABLES,
  type BackendEntry,
  type BackendTable,
  type BackendWrite,
  type KvBackend,
  type KvReader,
  type KvSnapshot,
  type RecordTable,
  type TableEntry,
} from "./kv-backend.js";
export { LmdbBackend } from "./lmdb-backend.js";
export { decodeSnapshot, encodeSnapshot } from "./snapshot-format.js";
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
