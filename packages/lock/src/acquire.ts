import {
  compare,
  type Keyspace,
  type KeyValue,
  KeywayError,
  op,
  type Session,
  type TxnResult,
} from "@keyway/client";
import { LockError } from "./errors.js";
import { leaseHex } from "./names.js";
import { Ownership } from "./ownership.js";
import { waitTurn } from "./wait.js";

/** One key to acquire in a revision-ordered queue. */
export interface KeySpec {
  readonly keyspace: Keyspace;
  readonly session: Session;
  /** The waiter's own key (bound to the session's lease). */
  readonly key: Buffer;
  /** Its value when created (empty for locks, the candidate's value for elections). */
  readonly value: Uint8Array | string;
  /** Keys under this prefix with a lower create revision are ahead in the queue. */
  readonly queuePrefix: Buffer;
  /** The key is acquired when fewer than this many keys are ahead of it (1 for a mutex). */
  readonly permits: number;
}

/** What the create step found. */
export interface Created {
  /** The key's create revision: the queue position and fencing token. */
  readonly revision: bigint;
  /** True when fewer than `permits` keys were ahead at creation. */
  readonly free: boolean;
  /** The key as it was when it already existed (re-entry through the same lease), else undefined. */
  readonly existing: KeyValue | undefined;
  /** Header revision of the create txn. */
  readonly headerRevision: bigint;
}

/**
 * Creates the waiter's key unless it exists (Go: `If(CreateRevision(key) == 0) Then(Put) Else(Get)`),
 * reading in the same txn the first `permits` keys of the queue, so an uncontended acquisition
 * costs one round trip. A lease that is gone fails with `sessionLost`. The txn is not cancelled by
 * the caller's signal: an abort mid-flight would leave a key of unknown revision in the queue.
 */
export async function createKey(spec: KeySpec): Promise<Created> {
  const queue = op.get(spec.queuePrefix, {
    prefix: true,
    keysOnly: true,
    sort: { target: "create", order: "ascend" },
    limit: spec.permits,
  });
  let result: TxnResult;
  try {
    result = await spec.keyspace
      .txn()
      .if(compare.create(spec.key, "==", 0n))
      .then(op.put(spec.key, spec.value, { lease: spec.session.leaseId }), queue)
      .else(op.get(spec.key), queue)
      .commit();
  } catch (err) {
    if (KeywayError.is(err, "leaseNotFound"))
      throw new LockError("sessionLost", `session lease ${leaseHex(spec.session.leaseId)} is gone`, err);
    // The put may have been applied (a write is never retried): remove the key if it is ours.
    await spec.keyspace
      .txn()
      .if(compare.lease(spec.key, "==", spec.session.leaseId))
      .then(op.delete(spec.key))
      .commit({ timeoutMs: 5_000 })
      .catch(() => undefined);
    throw err;
  }
  const [first, second] = result.responses;
  const existing = !result.succeeded && first?.type === "range" ? first.range.kvs[0] : undefined;
  const revision = existing?.createRevision ?? result.revision;
  const ahead = second?.type === "range" ? second.range.kvs.filter((kv) => kv.createRevision < revision) : [];
  return { revision, free: ahead.length < spec.permits, existing, headerRevision: result.revision };
}

/**
 * Waits for the turn of a created key, failing fast when the key or the session's lease is lost
 * (Go notices that only once its predecessors are gone). After the wait the key is read again,
 * as Go does since Jepsen's report (#11456): a key that vanished meanwhile fails with `sessionLost`.
 */
export async function waitForTurn(spec: KeySpec, ownership: Ownership, signal: AbortSignal): Promise<void> {
  const both = AbortSignal.any([signal, ownership.signal]);
  try {
    await waitTurn(spec.keyspace, spec.queuePrefix, ownership.createRevision, spec.permits, both);
    const mine = await spec.keyspace.get(spec.key, { signal: both });
    if (mine?.createRevision !== ownership.createRevision)
      throw new LockError("sessionLost", `lock key ${spec.key} vanished while waiting (lease expired?)`);
  } catch (err) {
    if (ownership.signal.aborted) throw ownership.signal.reason;
    if (signal.aborted) throw signal.reason;
    throw err;
  }
}

/**
 * Removes a waiter's or holder's key, but only this incarnation of it (same create revision).
 * Returns false when it was already gone. Bounded by `timeoutMs`.
 */
export async function deleteOwnKey(
  keyspace: Keyspace,
  key: Buffer,
  revision: bigint,
  timeoutMs = 5_000,
): Promise<boolean> {
  const result = await keyspace
    .txn()
    .if(compare.create(key, "==", revision))
    .then(op.delete(key))
    .commit({ timeoutMs });
  return result.succeeded;
}

/** Hooks a primitive gives to {@link acquire} for its status events. */
export interface AcquireHooks {
  /** The key was created behind others. */
  onWaiting(revision: bigint): void;
  /** The key or the lease was lost after acquisition (a loss while waiting rejects instead). */
  onLost(error: LockError): void;
  /** Runs once the key exists, before waiting (an election proclaims a changed value here). */
  afterCreate?(created: Created): Promise<void>;
}

/**
 * The whole acquisition: create the key, wait for its turn if needed, and return the watching
 * {@link Ownership}. On abort, timeout, loss or any error while waiting, the key is deleted
 * (best effort: if that fails too, the key goes with the lease) and the error is rethrown.
 */
export async function acquire(
  spec: KeySpec,
  signal: AbortSignal,
  hooks: AcquireHooks,
): Promise<{ ownership: Ownership; created: Created }> {
  signal.throwIfAborted();
  const created = await createKey(spec);
  let waiting = true;
  const ownership = new Ownership(spec.keyspace, spec.session, spec.key, created.revision, (error) => {
    if (!waiting) hooks.onLost(error);
  });
  try {
    signal.throwIfAborted();
    await hooks.afterCreate?.(created);
    if (!created.free) {
      hooks.onWaiting(created.revision);
      await waitForTurn(spec, ownership, signal);
    }
    if (ownership.signal.aborted) throw ownership.signal.reason;
    waiting = false;
    return { ownership, created };
  } catch (err) {
    ownership.stop();
    await deleteOwnKey(spec.keyspace, spec.key, created.revision).catch(() => undefined);
    throw err;
  }
}
