/**
 * The leader's queue of ReadIndex requests waiting for a heartbeat round to confirm leadership.
 * A request is answered once a majority acknowledges a heartbeat that carried its context or the
 * context of any later request, so one round serves every read queued before it.
 */
import type { Message, NodeId } from "./types.js";
import { bytesKey } from "./util.js";

/** One pending read: the commit index when it arrived and who acknowledged its round so far. */
export interface ReadIndexStatus {
  readonly request: Message;
  readonly index: number;
  readonly acks: Set<NodeId>;
}

/** Pending ReadIndex requests in arrival order, keyed by their context. */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Queues a request that arrived when the commit index was `index`. Duplicated contexts are ignored. */
  add(index: number, request: Message, ctx: Uint8Array): void {
    const key = bytesKey(ctx);
    if (this.pending.has(key)) return;
    this.pending.set(key, { request, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Records that `id` acknowledged the round for `ctx`; returns the acks so far, or undefined if unknown. */
  recvAck(id: NodeId, ctx: Uint8Array): ReadonlySet<NodeId> | undefined {
    const status = this.pending.get(bytesKey(ctx));
    if (status === undefined) return undefined;
    status.acks.add(id);
    return status.acks;
  }

  /** Removes and returns every request up to and including the one for `ctx` (now confirmed). */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = bytesKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1).map((k) => this.pending.get(k)!);
    for (const k of this.queue.slice(0, at + 1)) this.pending.delete(k);
    this.queue = this.queue.slice(at + 1);
    return done;
  }

  /** The context of the newest pending request: heartbeats carry it so one round confirms all. */
  lastPendingContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)!.request.context;
  }

  get size(): number {
    return this.queue.length;
  }
}
