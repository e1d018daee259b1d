import type { Comparison, Keyspace, Session } from "@keyway/client";
import type { WaitOptions } from "./call-signal.js";
import { LockError } from "./errors.js";
import type { LockHold } from "./hold.js";
import { keyPrefix, leaseHex } from "./names.js";
import { QueueLock } from "./queue-lock.js";
import { type CriticalSection, checkSection, runHeld } from "./with-hold.js";

/** Options of {@link Mutex}. */
export interface MutexOptions {
  /** The session whose lease the lock key is bound to (from `client.session()`). */
  session: Session;
}

/**
 * A fair distributed mutex, byte-compatible with Go's `concurrency.Mutex`: the key is `name/` +
 * the session's lease id in lowercase hex, with an empty value, created by a txn on
 * `create_revision == 0`; waiters queue by create revision and each watches only the deletion of
 * the key just ahead of it. Go services, `etcdctl lock` and Node processes take turns on one name.
 *
 * Tasks of this process that share the session queue in-process first (Go's layout gives them the
 * same key). The Mutex object remembers the hold it acquired last, so `unlock()`, `isOwner()` and
 * `fencingToken` work Go-style; `lock()` also returns the {@link LockHold} itself.
 */
export class Mutex extends QueueLock {
  /** The key prefix: `name/`. */
  readonly prefix: Buffer;
  /** This session's key: `name/` + hex(lease). */
  readonly key: Buffer;
  private current: LockHold | undefined;

  constructor(keyspace: Keyspace, name: string | Uint8Array, options: MutexOptions) {
    const prefix = keyPrefix(name);
    super(keyspace, options?.session);
    this.prefix = prefix;
    this.key = Buffer.concat([prefix, Buffer.from(leaseHex(this.session.leaseId))]);
  }

  /** The hold acquired last through this object, while it is not unlocked. */
  get hold(): LockHold | undefined {
    return this.current?.isReleased === false ? this.current : undefined;
  }

  /** The fencing token (the key's create revision) of the current hold, or undefined. */
  get fencingToken(): bigint | undefined {
    return this.hold?.fencingToken;
  }

  /** A txn compare guarding writes by the current hold; `notHeld` when nothing is held. */
  isOwner(): Comparison {
    return this.requireHold().isOwner();
  }

  /**
   * Waits for the lock, fairly (by create revision). Aborting `signal` or passing `timeoutMs`
   * removes the waiter's key and rejects with `aborted`/`timeout`; a lost session rejects with
   * `sessionLost` at once (Go notices only when its predecessors are gone).
   */
  async lock(options?: WaitOptions): Promise<LockHold> {
    const hold = await this.acquireHold(this.request(), options);
    this.current = hold;
    return hold;
  }

  /** Takes the lock only if nobody holds or waits for it; otherwise rejects with `locked`. */
  async tryLock(): Promise<LockHold> {
    const hold = await this.tryHold(this.request());
    this.current = hold;
    return hold;
  }

  /** Releases the current hold; `notHeld` when nothing is held, `lost`/`sessionLost` after a loss. */
  async unlock(): Promise<void> {
    await this.requireHold().unlock();
  }

  /**
   * Runs `fn` while holding the lock and unlocks after it. `fn` gets an AbortSignal that aborts
   * when the lock is lost; if the lock was lost before `fn` returned, the loss is thrown.
   */
  async withLock<T>(fn: CriticalSection<T>, options?: WaitOptions): Promise<T> {
    checkSection(fn);
    return runHeld(await this.lock(options), fn);
  }

  private request() {
    return { key: this.key, queuePrefix: this.prefix, permits: 1, sharedKey: true };
  }

  private requireHold(): LockHold {
    const hold = this.current;
    if (hold === undefined || hold.isReleased)
      throw new LockError("notHeld", `mutex ${this.prefix} is not held through this object`);
    return hold;
  }
}
