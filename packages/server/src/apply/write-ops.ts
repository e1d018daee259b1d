import { etcdserverpb, type mvccpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";
import { type ReadView, toIndexRange, type WriteTxn } from "../mvcc/index.js";
import type { LeaseLookup } from "./types.js";

/** The KeyValue a key has at the reader's latest revision, if any. */
function currentKv(read: ReadView | WriteTxn, key: Buffer): mvccpb.KeyValue | undefined {
  return read.range(toIndexRange(key, Buffer.alloc(0)), { revision: 0, limit: 0, countOnly: false }).kvs[0];
}

/**
 * Checks a put against the state before it runs, so it never fails halfway: ignore_value and
 * ignore_lease need the key to exist, a lease must exist. etcd checks the lease first for a
 * Put request but last for a put inside a txn (checkRequestPut); `leaseFirst` keeps both orders,
 * which decide the error when both checks fail.
 */
export function checkPut(
  read: ReadView,
  leases: LeaseLookup,
  req: etcdserverpb.PutRequest,
  leaseFirst: boolean,
): void {
  const leaseUnknown = req.lease !== 0n && !leases.has(req.lease);
  if (leaseFirst && leaseUnknown) throw new EtcdServerError("leaseNotFound");
  if ((req.ignoreValue || req.ignoreLease) && currentKv(read, req.key) === undefined) {
    throw new EtcdServerError("keyNotFound");
  }
  if (leaseUnknown) throw new EtcdServerError("leaseNotFound");
}

/**
 * etcd's Put in a write txn: reads the previous kv when a flag needs it, keeps the old value or
 * lease for ignore_*, and writes. The header carries the revision the put gets.
 * Callers run {@link checkPut} first, so this never fails halfway.
 */
export function executePut(txn: WriteTxn, req: etcdserverpb.PutRequest): etcdserverpb.PutResponse {
  const prev = req.ignoreValue || req.ignoreLease || req.prevKv ? currentKv(txn, req.key) : undefined;
  const value = req.ignoreValue && prev !== undefined ? prev.value : req.value;
  const lease = req.ignoreLease && prev !== undefined ? prev.lease : req.lease;
  const revision = txn.put(req.key, value, lease);
  return {
    header: etcdserverpb.ResponseHeader.fromPartial({ revision: BigInt(revision) }),
    prevKv: req.prevKv ? prev : undefined,
  };
}

/** etcd's DeleteRange in a write txn: prev_kvs if asked, then the deletes. */
export function executeDeleteRange(
  txn: WriteTxn,
  req: etcdserverpb.DeleteRangeRequest,
): etcdserverpb.DeleteRangeResponse {
  const range = toIndexRange(req.key, req.rangeEnd);
  const prevKvs = req.prevKv ? txn.range(range, { revision: 0, limit: 0, countOnly: false }).kvs : [];
  const { deleted, revision } = txn.deleteRange(range);
  return {
    header: etcdserverpb.ResponseHeader.fromPartial({ revision: BigInt(revision) }),
    deleted: BigInt(deleted),
    prevKvs,
  };
}
