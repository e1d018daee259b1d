import { etcdserverpb, type mvccpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";
import { type MvccStore, type ReadView, toIndexRange, type WriteTxn } from "../mvcc/index.js";
import { executeRange, toNumber } from "./range.js";
import type { LeaseLookup } from "./types.js";
import { checkPut, executeDeleteRange, executePut } from "./write-ops.js";

const CompareResult = etcdserverpb.Compare_CompareResult;
const CompareTarget = etcdserverpb.Compare_CompareTarget;

/** A txn with its compares evaluated: the branch that runs and, per op, the plan of a nested txn. */
interface TxnPlan {
  succeeded: boolean;
  ops: etcdserverpb.RequestOp[];
  nested: (TxnPlan | undefined)[];
}

/** Whether every op of both branches is a Range (etcd's isTxnReadonly; nested txns count as writes). */
export function isReadOnlyTxn(req: etcdserverpb.TxnRequest): boolean {
  return [...req.success, ...req.failure].every((op) => op.request?.$case === "requestRange");
}

/**
 * Whether a read-only txn may be answered from the local state at once: every Range in it asks
 * for a serializable read (etcd's isTxnSerializable); otherwise it waits for a ReadIndex round.
 */
export function isSerializableTxn(req: etcdserverpb.TxnRequest): boolean {
  return [...req.success, ...req.failure].every(
    (op) => op.request?.$case === "requestRange" && op.request.requestRange.serializable,
  );
}

/**
 * etcd's Txn: all compares, nested ones included, are evaluated on the state before the txn;
 * the chosen ops are checked (puts: ignore_* and lease; ranges: compacted/future revision) so
 * an error aborts before any write; then the ops run in order in one revision. header.revision
 * is the new revision if anything changed, else the current one.
 * @param write the write txn to run in, or undefined for a read-only txn.
 */
export function executeTxn(
  store: MvccStore,
  leases: LeaseLookup,
  req: etcdserverpb.TxnRequest,
  write: WriteTxn | undefined,
): etcdserverpb.TxnResponse {
  const view = store.read();
  const plan = planTxn(view, req);
  checkPlan(plan, view, store.compactRevision, leases);
  const response = runPlan(plan, write ?? view);
  const revision = write === undefined ? view.revision : write.revision;
  response.header = etcdserverpb.ResponseHeader.fromPartial({ revision: BigInt(revision) });
  return response;
}

function planTxn(view: ReadView, req: etcdserverpb.TxnRequest): TxnPlan {
  const succeeded = req.compare.every((compare) => evaluateCompare(view, compare));
  const ops = succeeded ? req.success : req.failure;
  const nested = ops.map((op) =>
    op.request?.$case === "requestTxn" ? planTxn(view, op.request.requestTxn) : undefined,
  );
  return { succeeded, ops, nested };
}

/** etcd's applyCompare: every key in range must satisfy it; no keys compares a zero KeyValue, except VALUE. */
function evaluateCompare(view: ReadView, compare: etcdserverpb.Compare): boolean {
  const range = toIndexRange(compare.key, compare.rangeEnd);
  const { kvs } = view.range(range, { revision: 0, limit: 0, countOnly: false });
  if (kvs.length === 0) {
    if (compare.target === CompareTarget.VALUE) return false;
    return compareKv(compare, {
      key: compare.key,
      createRevision: 0n,
      modRevision: 0n,
      version: 0n,
      value: Buffer.alloc(0),
      lease: 0n,
    });
  }
  return kvs.every((kv) => compareKv(compare, kv));
}

function compareKv(compare: etcdserverpb.Compare, kv: mvccpb.KeyValue): boolean {
  const operand = compare.targetUnion;
  let order = 0;
  switch (compare.target) {
    case CompareTarget.VALUE:
      order = Buffer.compare(kv.value, operand?.$case === "value" ? operand.value : Buffer.alloc(0));
      break;
    case CompareTarget.CREATE:
      order = compareInt(
        kv.createRevision,
        operand?.$case === "createRevision" ? operand.createRevision : 0n,
      );
      break;
    case CompareTarget.MOD:
      order = compareInt(kv.modRevision, operand?.$case === "modRevision" ? operand.modRevision : 0n);
      break;
    case CompareTarget.VERSION:
      order = compareInt(kv.version, operand?.$case === "version" ? operand.version : 0n);
      break;
    case CompareTarget.LEASE:
      order = compareInt(kv.lease, operand?.$case === "lease" ? operand.lease : 0n);
      break;
  }
  switch (compare.result) {
    case CompareResult.EQUAL:
      return order === 0;
    case CompareResult.NOT_EQUAL:
      return order !== 0;
    case CompareResult.GREATER:
      return order > 0;
    case CompareResult.LESS:
      return order < 0;
    default:
      // etcd treats an unknown result as satisfied.
      return true;
  }
}

function compareInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * etcd's checkRequests on the chosen branches, against the state before the txn. A range
 * revision below the compaction revision is compacted even when negative, as in etcd 3.4,
 * where a txn range at revision < 0 after a compaction fails this way.
 */
function checkPlan(plan: TxnPlan, view: ReadView, compactRevision: number, leases: LeaseLookup): void {
  plan.ops.forEach((op, i) => {
    const request = op.request;
    const nested = plan.nested[i];
    if (nested !== undefined) checkPlan(nested, view, compactRevision, leases);
    else if (request?.$case === "requestPut") checkPut(view, leases, request.requestPut, false);
    else if (request?.$case === "requestRange" && request.requestRange.revision !== 0n) {
      const revision = toNumber(request.requestRange.revision);
      if (revision > view.revision) throw new EtcdServerError("futureRev");
      if (revision < compactRevision) throw new EtcdServerError("compacted");
    }
  });
}

/** Runs a checked plan; inner responses carry only a header revision (nested txns: an empty header). */
function runPlan(plan: TxnPlan, target: WriteTxn | ReadView): etcdserverpb.TxnResponse {
  const responses = plan.ops.map((op, i): etcdserverpb.ResponseOp => {
    const request = op.request;
    const nested = plan.nested[i];
    switch (request?.$case) {
      case "requestRange":
        return {
          response: { $case: "responseRange", responseRange: executeRange(target, request.requestRange) },
        };
      case "requestPut":
        return {
          response: { $case: "responsePut", responsePut: executePut(asWrite(target), request.requestPut) },
        };
      case "requestDeleteRange": {
        const responseDeleteRange = executeDeleteRange(asWrite(target), request.requestDeleteRange);
        return { response: { $case: "responseDeleteRange", responseDeleteRange } };
      }
      case "requestTxn": {
        const responseTxn = runPlan(nested as TxnPlan, target);
        return { response: { $case: "responseTxn", responseTxn } };
      }
      default:
        return { response: undefined };
    }
  });
  return { header: etcdserverpb.ResponseHeader.fromPartial({}), succeeded: plan.succeeded, responses };
}

function asWrite(target: WriteTxn | ReadView): WriteTxn {
  if (!("put" in target)) throw new Error("apply: a write op reached a read-only txn");
  return target;
}
