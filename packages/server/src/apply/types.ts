import type { etcdserverpb, keywaypb } from "@keyway/api";
import type { EtcdServerError } from "../errors.js";

/** What apply asks the lessor: whether a lease id exists (Put with an unknown lease fails). */
export interface LeaseLookup {
  has(id: bigint): boolean;
}

/** One committed log entry, applied in index order. */
export interface LogEntry {
  /** Log index, > 0 and increasing. */
  index: number;
  /** Term of the entry (stored with the applied index; a checkpoint marker names it). */
  term: number;
  request: keywaypb.InternalRequest;
}

/** The response of an applied write. */
export type ApplyResponse =
  | etcdserverpb.PutResponse
  | etcdserverpb.DeleteRangeResponse
  | etcdserverpb.TxnResponse
  | etcdserverpb.CompactionResponse
  | etcdserverpb.LeaseGrantResponse
  | etcdserverpb.LeaseRevokeResponse
  | etcdserverpb.MemberUpdateResponse;

/**
 * The result of applying one entry: a response, or an etcd error that left the state unchanged.
 * Headers carry only `revision`; the RPC layer fills cluster, member and term.
 */
export type ApplyOutcome = { ok: true; response: ApplyResponse } | { ok: false; error: EtcdServerError };

/** The few logger methods apply uses (a pino logger fits). */
export interface ApplyLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}
