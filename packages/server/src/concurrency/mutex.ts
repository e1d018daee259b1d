import type { etcdserverpb } from "@keyway/api";
import type { LocalKv } from "./local-kv.js";
import {
  createRevisionIs,
  getOp,
  keyPrefix,
  oldestCreatedRequest,
  putOp,
  rangeKvs,
  rangeOp,
  sessionKey,
} from "./ops.js";
import { waitDeletes } from "./wait-deletes.js";

/** The error Go's Mutex returns when its own key vanished while it waited (its session expired). */
export const SESSION_EXPIRED_MESSAGE = "mutex: session is expired";

/** A held lock: the key that holds it and the header of the read that saw it acquired. */
export interface HeldLock {
  key: Buffer;
  header: etcdserverpb.ResponseHeader | undefined;
}

/**
 * Acquires the lock `name` for `lease` exactly as Go's `concurrency.Mutex.Lock` does, so that
 * callers of this service, `etcdctl lock` and Go services queue on the same keys: the key
 * `name/<lease hex>` is created with the lease if absent (a session that holds it already keeps
 * its place), then the caller waits for every key created before it to go. If the wait fails or
 * `signal` aborts, the key is deleted so it never blocks the queue. After the wait, the key must
 * still exist (etcd 3.5's fix for Jepsen's finding: a lease that expired while waiting must not
 * be reported as the lock holder).
 */
export async function acquireLock(
  kv: LocalKv,
  name: Buffer,
  lease: bigint,
  signal: AbortSignal,
): Promise<HeldLock> {
  const prefix = keyPrefix(name);
  const key = sessionKey(prefix, lease);
  const response = await kv.txn(
    [createRevisionIs(key, 0n)],
    [putOp({ key, lease }), rangeOp(oldestCreatedRequest(prefix))],
    [getOp(key), rangeOp(oldestCreatedRequest(prefix))],
  );
  const myRevision = response.succeeded
    ? (response.header?.revision ?? 0n)
    : (rangeKvs(response, 0)[0]?.createRevision ?? 0n);
  const owner = rangeKvs(response, 1)[0];
  if (owner === undefined || owner.createRevision === myRevision) return { key, header: response.header };
  let header: etcdserverpb.ResponseHeader | undefined;
  try {
    header = await waitDeletes(kv, prefix, myRevision - 1n, signal);
  } catch (error) {
    await kv.delete(key).catch(() => undefined);
    throw error;
  }
  if (kv.range({ key }).kvs.length === 0) throw new Error(SESSION_EXPIRED_MESSAGE);
  return { key, header };
}
