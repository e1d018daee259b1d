import type { Comparison, Keyspace } from "@keyway/client";
import { deleteOwnKey } from "./acquire.js";
import { LockError } from "./errors.js";
import type { Ownership } from "./ownership.js";

/**
 * One acquisition of a lock (mutex, read or write lock, semaphore permit): its key, its fencing
 * token, an AbortSignal aborted when it is lost, and `unlock()`. Disposable: `await using hold =
 * await mutex.lock()` unlocks at the end of the block (a loss is then reported through `signal`,
 * not thrown from the disposal).
 */
export class LockHold implements AsyncDisposable {
  private released = false;

  constructor(
    private readonly keyspace: Keyspace,
    private readonly ownership: Ownership,
    private readonly onRelease: () => void,
  ) {
    // A lost hold frees its place in the in-process queue at once (unlock() then reports the loss).
    if (ownership.signal.aborted) onRelease();
    else ownership.signal.addEventListener("abort", () => onRelease(), { once: true });
  }

  /** The lock key in etcd (namespace prefix excluded). */
  get key(): Buffer {
    return this.ownership.key;
  }

  /**
   * The fencing token: the key's create revision. It grows with every acquisition of the same
   * lock (etcd revisions are global and monotonic), so a resource that remembers the highest token
   * it accepted can refuse a late writer. See also {@link LockHold.isOwner}.
   */
  get fencingToken(): bigint {
    return this.ownership.createRevision;
  }

  /** Aborted, with a `lost` or `sessionLost` LockError as reason, when the lock is lost. */
  get signal(): AbortSignal {
    return this.ownership.signal;
  }

  /** True once the lock was lost (see {@link LockHold.signal}). */
  get isLost(): boolean {
    return this.ownership.signal.aborted;
  }

  /** True once `unlock()` was called. */
  get isReleased(): boolean {
    return this.released;
  }

  /**
   * A txn compare that holds only while this acquisition still owns the lock:
   * `client.txn().if(hold.isOwner()).then(op.put("resource", v)).commit()` writes nothing once
   * the lock has moved on, whatever the local clocks and pauses say.
   */
  isOwner(): Comparison {
    return this.ownership.isOwner();
  }

  /**
   * Releases the lock: deletes the key (only this incarnation of it). Rejects with `notHeld` when
   * already unlocked and with the loss (`lost` or `sessionLost`) when the lock was lost meanwhile;
   * a transport failure surfaces as the client's KeywayError (the key then goes with the lease).
   */
  async unlock(): Promise<void> {
    if (this.released) throw new LockError("notHeld", `lock ${this.key} was already unlocked`);
    this.released = true;
    const lost = this.ownership.lostError;
    this.ownership.stop();
    if (lost !== undefined) throw lost;
    try {
      const deleted = await deleteOwnKey(this.keyspace, this.key, this.fencingToken);
      if (!deleted) throw new LockError("lost", `lock key ${this.key} was already gone when unlocking`);
    } finally {
      this.onRelease();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.released) return;
    await this.unlock().catch((err: unknown) => {
      if (!LockError.is(err, "lost", "sessionLost")) throw err;
    });
  }
}
