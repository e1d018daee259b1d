/**
 * Deterministic apply of committed log entries, the reads served from the applied state, and
 * the request checks done before proposing (etcd's apply.go and v3rpc/key.go).
 */

export type { RevisionEvents } from "../mvcc/index.js";
export { executeRange } from "./range.js";
export type { SnapshotExport } from "./snapshot.js";
export {
  type EventListener,
  type LeaseListener,
  type MemberChangeOutcome,
  type MembersListener,
  type RestoreListener,
  StateMachine,
  type StateMachineOptions,
} from "./state-machine.js";
export { isReadOnlyTxn, isSerializableTxn } from "./txn.js";
export type { ApplyLogger, ApplyOutcome, ApplyResponse, LeaseLookup, LogEntry } from "./types.js";
export { checkDeleteRangeRequest, checkPutRequest, checkRangeRequest, checkTxnRequest } from "./validate.js";
