import { randomUUID } from "node:crypto";
import type { Keyspace, Session } from "@keyway/client";
import type { WaitOptions } from "./call-signal.js";
import type { LockHold } from "./hold.js";
import { keyPrefix, leaseHex } from "./names.js";
import { type HoldRequest, QueueLock } from "./queue-lock.js";
import { type CriticalSection, checkSection, runHeld } from "./with-hold.js";

/** Options of {@link RWMutex}. */
export interface RWMutexOptions {
  /** The session whose lease every key is bound to. */
  session: Session;
}

/**
 * A fair readers-writer lock (Keyway's own layout; Go's `recipes.RWMutex` orders by mod revision
 * and Unix-nano keys and is not interoperable). Keys, each bound to the session's lease:
 * `name/read/<lease hex>/<uuid>` and `name/write/<lease hex>/<uuid>`, one per acquisition, so many
 * tasks of one process can read at once. Order is by create revision: a reader waits only for
 * older writers, a writer for every older key; a waiting writer therefore blocks later readers
 * (no writer starvation). Fencing, loss, abort and timeout behave as for {@link Mutex}.
 */
export class RWMutex extends QueueLock {
  /** The key prefix: `name/`. */
  readonly prefix: Buffer;

  constructor(keyspace: Keyspace, name: string | Uint8Array, options: RWMutexOptions) {
    const prefix = keyPrefix(name);
    super(keyspace, options?.session);
    this.prefix = prefix;
  }

  /** Waits for a shared (read) hold. */
  rLock(options?: WaitOptions): Promise<LockHold> {
    return this.acquireHold(this.request("read"), options);
  }

  /** Waits for the exclusive (write) hold. */
  lock(options?: WaitOptions): Promise<LockHold> {
    return this.acquireHold(this.request("write"), options);
  }

  /** A read hold only if no writer holds or waits; otherwise `locked`. */
  tryRLock(): Promise<LockHold> {
    return this.tryHold(this.request("read"));
  }

  /** The write hold only if nobody holds or waits; otherwise `locked`. */
  tryLock(): Promise<LockHold> {
    return this.tryHold(this.request("write"));
  }

  /** Runs `fn` under a read hold; see {@link Mutex.withLock}. */
  async withRLock<T>(fn: CriticalSection<T>, options?: WaitOptions): Promise<T> {
    checkSection(fn);
    return runHeld(await this.rLock(options), fn);
  }

  /** Runs `fn` under the write hold; see {@link Mutex.withLock}. */
  async withLock<T>(fn: CriticalSection<T>, options?: WaitOptions): Promise<T> {
    checkSection(fn);
    return runHeld(await this.lock(options), fn);
  }

  private request(kind: "read" | "write"): HoldRequest {
    const key = Buffer.concat([
      this.prefix,
      Buffer.from(`${kind}/${leaseHex(this.session.leaseId)}/${randomUUID()}`),
    ]);
    // Readers are blocked only by older writers; writers by any older key.
    const queuePrefix = kind === "read" ? Buffer.concat([this.prefix, Buffer.from("write/")]) : this.prefix;
    return { key, queuePrefix, permits: 1, sharedKey: false };
  }
}
