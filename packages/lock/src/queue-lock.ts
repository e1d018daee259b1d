import type { Keyspace, Session } from "@keyway/client";
import { EventEmitter } from "eventemitter3";
import { acquire, createKey, deleteOwnKey, type KeySpec } from "./acquire.js";
import { callSignal, type WaitOptions } from "./call-signal.js";
import { LockError } from "./errors.js";
import type { LockEvents } from "./events.js";
import { LockHold } from "./hold.js";
import { type LocalRelease, localQueue } from "./local-queue.js";
import { checkSession } from "./names.js";
import { Ownership } from "./ownership.js";

/** What a concrete lock tells the shared machinery about one acquisition. */
export interface HoldRequest {
  /** The waiter's key. */
  key: Buffer;
  /** Keys under this prefix with lower create revisions are ahead. */
  queuePrefix: Buffer;
  /** Acquired when fewer than this many keys are ahead. */
  permits: number;
  /**
   * True when the key is the same for every acquisition through the session (Go's mutex layout):
   * the tasks of this process then queue in-process first, so that they never share the key.
   */
  sharedKey: boolean;
}

/**
 * The machinery shared by Mutex, RWMutex and Semaphore: a revision-ordered queue of lease-bound
 * keys with fencing, loss detection, abort and timeout. Emits {@link LockEvents}.
 */
export class QueueLock extends EventEmitter<LockEvents> {
  constructor(
    protected readonly keyspace: Keyspace,
    protected readonly session: Session,
  ) {
    super();
    checkSession(session);
  }

  /** Waits in the queue until the turn comes; see {@link WaitOptions}. */
  protected async acquireHold(request: HoldRequest, options: WaitOptions | undefined): Promise<LockHold> {
    checkSession(this.session);
    using call = callSignal(options, "lock");
    const release = request.sharedKey
      ? await localQueue(this.session, request.key).take(call.signal)
      : () => undefined;
    try {
      const spec = this.spec(request);
      const { ownership } = await acquire(spec, call.signal, {
        onWaiting: (revision) => this.emit("waiting", { key: request.key, revision }),
        onLost: (error) => this.emit("lost", error),
      });
      return this.held(ownership, release);
    } catch (err) {
      release();
      throw err;
    }
  }

  /** One attempt without waiting: `locked` when others are ahead (the key is then removed). */
  protected async tryHold(request: HoldRequest): Promise<LockHold> {
    checkSession(this.session);
    const release = request.sharedKey ? localQueue(this.session, request.key).tryTake() : () => undefined;
    if (release === undefined)
      throw new LockError("locked", `lock ${request.queuePrefix} is held by another task of this process`);
    try {
      const created = await createKey(this.spec(request));
      if (!created.free) {
        await deleteOwnKey(this.keyspace, request.key, created.revision);
        throw new LockError("locked", `lock ${request.queuePrefix} is held`);
      }
      const ownership = new Ownership(this.keyspace, this.session, request.key, created.revision, (error) =>
        this.emit("lost", error),
      );
      return this.held(ownership, release);
    } catch (err) {
      release();
      throw err;
    }
  }

  private spec(request: HoldRequest): KeySpec {
    return { keyspace: this.keyspace, session: this.session, value: "", ...request };
  }

  private held(ownership: Ownership, release: LocalRelease): LockHold {
    const hold = new LockHold(this.keyspace, ownership, () => {
      release();
      if (!ownership.signal.aborted) this.emit("released", { key: ownership.key });
    });
    this.emit("acquired", { key: ownership.key, fencingToken: ownership.createRevision });
    return hold;
  }
}
