import { etcdserverpb, type mvccpb, prefixEnd } from "@keyway/api";
import type { TxnOp } from "./local-kv.js";

/** `create_revision(key) == revision`: 0 means "the key does not exist". */
export function createRevisionIs(key: Buffer, revision: bigint): etcdserverpb.Compare {
  return etcdserverpb.Compare.fromPartial({
    key,
    target: etcdserverpb.Compare_CompareTarget.CREATE,
    result: etcdserverpb.Compare_CompareResult.EQUAL,
    targetUnion: { $case: "createRevision", createRevision: revision },
  });
}

/** A put inside a txn. */
export function putOp(request: Partial<etcdserverpb.PutRequest>): TxnOp {
  return { $case: "requestPut", requestPut: etcdserverpb.PutRequest.fromPartial(request) };
}

/** A single-key get inside a txn. */
export function getOp(key: Buffer): TxnOp {
  return rangeOp(etcdserverpb.RangeRequest.fromPartial({ key }));
}

/** A single-key delete inside a txn. */
export function deleteOp(key: Buffer): TxnOp {
  return {
    $case: "requestDeleteRange",
    requestDeleteRange: etcdserverpb.DeleteRangeRequest.fromPartial({ key }),
  };
}

/** The kvs of the range response at `index` of a txn response (empty if it is not a range). */
export function rangeKvs(response: etcdserverpb.TxnResponse, index: number): mvccpb.KeyValue[] {
  const op = response.responses[index]?.response;
  return op?.$case === "responseRange" ? op.responseRange.kvs : [];
}

/** Go `concurrency`'s per-session key: `prefix` followed by the lease id in lowercase hex. */
export function sessionKey(prefix: Buffer, lease: bigint): Buffer {
  return Buffer.concat([prefix, Buffer.from(lease.toString(16))]);
}

/** `name + "/"`, the prefix Go's Mutex and Election put their keys under. */
export function keyPrefix(name: Buffer): Buffer {
  return Buffer.concat([name, Buffer.from("/")]);
}

/** A range over `prefix` that returns only the key created first (Go's WithFirstCreate). */
export function oldestCreatedRequest(prefix: Buffer): etcdserverpb.RangeRequest {
  return topByCreate(prefix, etcdserverpb.RangeRequest_SortOrder.ASCEND);
}

/** A range over `prefix` that returns only the key created last (Go's WithLastCreate). */
export function newestCreatedRequest(prefix: Buffer): etcdserverpb.RangeRequest {
  return topByCreate(prefix, etcdserverpb.RangeRequest_SortOrder.DESCEND);
}

function topByCreate(prefix: Buffer, sortOrder: etcdserverpb.RangeRequest_SortOrder) {
  return etcdserverpb.RangeRequest.fromPartial({
    key: prefix,
    rangeEnd: prefixEnd(prefix),
    sortTarget: etcdserverpb.RangeRequest_SortTarget.CREATE,
    sortOrder,
    limit: 1n,
  });
}

/** A range inside a txn. */
export function rangeOp(requestRange: etcdserverpb.RangeRequest): TxnOp {
  return { $case: "requestRange", requestRange };
}
