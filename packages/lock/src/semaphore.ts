import { randomUUID } from "node:crypto";
import type { Keyspace, Session } from "@keyway/client";
import type { WaitOptions } from "./call-signal.js";
import { LockError } from "./errors.js";
import type { LockHold } from "./hold.js";
import { keyPrefix, leaseHex } from "./names.js";
import { type HoldRequest, QueueLock } from "./queue-lock.js";
import { type CriticalSection, checkSection, runHeld } from "./with-hold.js";

/** Most permits of a semaphore (each waiter reads up to this many keys per round). */
export const MAX_PERMITS = 10_000;

/** Options of {@link Semaphore}. */
export interface SemaphoreOptions {
  /** The session whose lease every key is bound to. */
  session: Session;
  /** How many holders at once (1 to {@link MAX_PERMITS}). Every user of the name must agree. */
  permits: number;
}

/**
 * A fair counting semaphore (Keyway's own layout): one key per acquisition,
 * `name/<lease hex>/<uuid>`, bound to the session's lease; an acquisition holds once fewer than
 * `permits` keys are older (by create revision), so permits go out in queue order. Waiters watch
 * the prefix for deletions and count again. Fencing, loss, abort and timeout behave as for
 * {@link Mutex}; the fencing token of a permit is its key's create revision.
 */
export class Semaphore extends QueueLock {
  /** The key prefix: `name/`. */
  readonly prefix: Buffer;
  /** Holders allowed at once. */
  readonly permits: number;

  constructor(keyspace: Keyspace, name: string | Uint8Array, options: SemaphoreOptions) {
    const prefix = keyPrefix(name);
    super(keyspace, options?.session);
    const permits = options.permits;
    if (!Number.isInteger(permits) || permits < 1 || permits > MAX_PERMITS)
      throw new LockError(
        "badRequest",
        `permits must be an integer from 1 to ${MAX_PERMITS}, got ${permits}`,
      );
    this.prefix = prefix;
    this.permits = permits;
  }

  /** Waits for a permit. */
  acquire(options?: WaitOptions): Promise<LockHold> {
    return this.acquireHold(this.request(), options);
  }

  /** A permit only if one is free and nobody waits ahead; otherwise `locked`. */
  tryAcquire(): Promise<LockHold> {
    return this.tryHold(this.request());
  }

  /** Runs `fn` holding a permit; see {@link Mutex.withLock}. */
  async withPermit<T>(fn: CriticalSection<T>, options?: WaitOptions): Promise<T> {
    checkSection(fn);
    return runHeld(await this.acquire(options), fn);
  }

  private request(): HoldRequest {
    const key = Buffer.concat([
      this.prefix,
      Buffer.from(`${leaseHex(this.session.leaseId)}/${randomUUID()}`),
    ]);
    return { key, queuePrefix: this.prefix, permits: this.permits, sharedKey: false };
  }
}
