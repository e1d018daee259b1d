import type { Operation, OperationRecord, Outcome } from "../history/types.js";
import type { ModelState } from "./model.js";
import { show } from "./watch-history.js";

/** One operation in one line: id, client, times relative to `originNs` (ms), call and outcome. */
export function describeOperation(record: OperationRecord, originNs: bigint): string {
  const ms = (ns: bigint) => (Number(ns - originNs) / 1e6).toFixed(3);
  return `#${record.id} c${record.client} [${ms(record.invokeNs)}..${ms(record.returnNs)} ms] ${describeCall(record.operation)} → ${describeOutcome(record.outcome)}`;
}

function describeCall(op: Operation): string {
  switch (op.kind) {
    case "get":
      return `get ${op.key}${op.serializable === true ? " (serializable)" : ""}`;
    case "range":
      return `range ${op.start}..${op.end === "\u0000" ? "∞" : op.end}${op.limit ? ` limit ${op.limit}` : ""}`;
    case "put":
      return `put ${op.key}=${JSON.stringify(op.value)}${op.lease ? ` lease ${op.lease}` : ""}`;
    case "delete":
      return `delete ${op.key}`;
    case "cas":
      return `cas ${op.key} if mod==${op.expectModRevision} put ${JSON.stringify(op.value)}`;
    case "leaseGrant":
      return `leaseGrant ttl ${op.ttlSeconds}s`;
    case "leaseRevoke":
      return `leaseRevoke ${op.lease}`;
  }
}

function describeOutcome(outcome: Outcome): string {
  if (outcome.status !== "ok") return `${outcome.status} (${outcome.error})`;
  const r = outcome.result;
  switch (r.kind) {
    case "get":
      return `rev ${r.revision} ${show(r.kv)}`;
    case "range":
      return `rev ${r.revision} count ${r.count} [${r.kvs.map(show).join(", ")}]`;
    case "put":
    case "leaseRevoke":
      return `rev ${r.revision}`;
    case "delete":
      return `rev ${r.revision} deleted ${r.deleted}`;
    case "cas":
      return `rev ${r.revision} ${r.succeeded ? "succeeded" : `failed, read ${show(r.kv)}`}`;
    case "leaseGrant":
      return `rev ${r.revision} lease ${r.lease}`;
  }
}

/** A model state in one line: revision, keys and live leases. */
export function describeState(state: ModelState): string {
  const keys = [...state.keys.values()].map(show).join(", ");
  return `revision ${state.revision}; keys [${keys}]; leases [${[...state.leases].join(", ")}]`;
}
