import type { ReadState } from "@keyway/raft";
import { EtcdServerError } from "../errors.js";

/** How long a ReadIndex request may go unanswered before it is sent again with a fresh context. */
export const READ_INDEX_RETRY_MS = 500;

interface ReadWaiter {
  deadlineMs: number;
  resolve(): void;
  reject(error: Error): void;
}

interface InFlight {
  ctx: Uint8Array;
  sentAtMs: number;
  waiters: ReadWaiter[];
}

/**
 * Linearizable reads by ReadIndex, batched as etcd's linearizableReadLoop does: every read that
 * arrives while one request is out waits for the next, so a thousand concurrent reads cost one
 * heartbeat round. A read is released once the local applied index reaches the index the leader
 * confirmed. An unanswered request (leader lost, message dropped) is sent again with a fresh
 * context (reusing one was an etcd stale-read bug); a leader change fails the reads that were
 * out with `leader changed`; a read waits at most until its deadline (`request timed out`).
 */
export class ReadIndexer {
  private queued: ReadWaiter[] = [];
  private inFlight: InFlight | undefined;
  /** Confirmed, waiting for apply, in ascending index order. */
  private confirmed: Array<{ index: number; waiters: ReadWaiter[] }> = [];
  private nextCtx = 1n;

  /** Queues a read; it is released (resolved) once linearizable, or rejected. */
  read(deadlineMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => this.queued.push({ deadlineMs, resolve, reject }));
  }

  /** Whether a request should be issued now: reads are queued and none is out. */
  get wantsRequest(): boolean {
    return this.inFlight === undefined && this.queued.length > 0;
  }

  /** Takes the queued reads into a new request and returns its context for RawNode.readIndex. */
  issue(nowMs: number): Uint8Array {
    const ctx = Buffer.alloc(8);
    ctx.writeBigUInt64BE(this.nextCtx++);
    this.inFlight = { ctx, sentAtMs: nowMs, waiters: this.queued };
    this.queued = [];
    return ctx;
  }

  /** Records the answers of a Ready; reads whose index is applied already are released. */
  answered(states: readonly ReadState[], appliedIndex: number): void {
    const out = this.inFlight;
    if (out === undefined) return;
    for (const state of states) {
      if (!Buffer.from(state.requestCtx).equals(out.ctx)) continue;
      this.inFlight = undefined;
      this.confirmed.push({ index: state.index, waiters: out.waiters });
      this.confirmed.sort((a, b) => a.index - b.index);
      break;
    }
    this.applied(appliedIndex);
  }

  /** Releases the reads whose confirmed index is now applied. */
  applied(appliedIndex: number): void {
    while (this.confirmed.length > 0 && (this.confirmed[0]?.index ?? 0) <= appliedIndex) {
      for (const waiter of this.confirmed.shift()?.waiters ?? []) waiter.resolve();
    }
  }

  /**
   * Called on every tick: expires reads past their deadline; returns true when the request out
   * has gone unanswered too long and must be issued again.
   */
  tick(nowMs: number): boolean {
    const expire = (waiters: ReadWaiter[]) =>
      waiters.filter((waiter) => {
        if (waiter.deadlineMs > nowMs) return true;
        waiter.reject(new EtcdServerError("timeout"));
        return false;
      });
    this.queued = expire(this.queued);
    for (const batch of this.confirmed) batch.waiters = expire(batch.waiters);
    const out = this.inFlight;
    if (out === undefined) return false;
    out.waiters = expire(out.waiters);
    if (out.waiters.length === 0) {
      this.inFlight = undefined;
      return false;
    }
    if (nowMs - out.sentAtMs < READ_INDEX_RETRY_MS) return false;
    // Re-queue so the next issue() gives them a fresh context.
    this.queued.unshift(...out.waiters);
    this.inFlight = undefined;
    return true;
  }

  /** The leader changed: reads whose request was out fail, as etcd's do. */
  leaderChanged(): void {
    const out = this.inFlight;
    this.inFlight = undefined;
    for (const waiter of out?.waiters ?? []) waiter.reject(new EtcdServerError("leaderChanged"));
  }

  /** Fails every read with `error`. */
  rejectAll(error: () => Error): void {
    const all = [
      ...this.queued,
      ...(this.inFlight?.waiters ?? []),
      ...this.confirmed.flatMap((c) => c.waiters),
    ];
    this.queued = [];
    this.inFlight = undefined;
    this.confirmed = [];
    for (const waiter of all) waiter.reject(error());
  }
}
