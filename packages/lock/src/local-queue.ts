import type { Session } from "@keyway/client";

/** Releases a place taken in a {@link LocalQueue}; calling it twice is harmless. */
export type LocalRelease = () => void;

interface Waiter {
  grant: (release: LocalRelease) => void;
  fail: (reason: unknown) => void;
}

/**
 * A FIFO of the async tasks of this process that want the same etcd key. With Go's layout the key
 * of a mutex is `name/` + the session's lease, so two tasks sharing a session would share the key
 * and both "hold" the lock; this queue lets only one of them at a time go on to etcd.
 */
export class LocalQueue {
  private held = false;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly onIdle: () => void) {}

  /** True when nobody holds or waits. */
  get idle(): boolean {
    return !this.held && this.waiters.length === 0;
  }

  /** Takes the place at once, or returns undefined when it is taken (for tryLock). */
  tryTake(): LocalRelease | undefined {
    if (this.held) return undefined;
    this.held = true;
    return this.releaser();
  }

  /** Waits for the place in FIFO order; an aborted signal removes the waiter and rejects. */
  take(signal: AbortSignal): Promise<LocalRelease> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const now = this.tryTake();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<LocalRelease>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal.removeEventListener("abort", onAbort);
          resolve(release);
        },
        fail: reject,
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        if (this.idle) this.onIdle();
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): LocalRelease {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiters.shift();
      if (next !== undefined) next.grant(this.releaser());
      else {
        this.held = false;
        this.onIdle();
      }
    };
  }
}

const queues = new WeakMap<Session, Map<string, LocalQueue>>();

/**
 * The process-wide queue of one (session, key). Entries disappear when idle, and with the session
 * (a WeakMap), so long-running processes do not accumulate them.
 */
export function localQueue(session: Session, key: Buffer): LocalQueue {
  let bySession = queues.get(session);
  if (bySession === undefined) {
    bySession = new Map();
    queues.set(session, bySession);
  }
  const id = key.toString("hex");
  let queue = bySession.get(id);
  if (queue === undefined) {
    const map = bySession;
    queue = new LocalQueue(() => {
      if (map.get(id) === queue && queue?.idle) map.delete(id);
    });
    bySession.set(id, queue);
  }
  return queue;
}
