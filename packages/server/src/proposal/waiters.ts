import type { keywaypb } from "@keyway/api";
import type { ApplyOutcome } from "../apply/index.js";
import { EtcdServerError } from "../errors.js";

/** One proposal waiting for its entry to be applied. */
export interface Waiter {
  readonly request: keywaypb.InternalRequest;
  readonly encoded: Uint8Array;
  /** Clock time (ms) after which the caller gets `request timed out`. */
  readonly deadlineMs: number;
  resolve(outcome: ApplyOutcome): void;
  reject(error: Error): void;
}

/**
 * Proposals in flight, found again when their entry is applied: by the entry's data on the
 * member that proposed it (the log holds the very bytes the proposer passed in, so nothing needs
 * decoding), or by request id once another member's copy of the entry was decoded. An entry lost
 * to a leader change is never applied; its caller gets `request timed out` at its deadline, as
 * with etcd (the write may still have happened elsewhere: the client must treat it as unknown).
 */
export class Waiters {
  private readonly byId = new Map<bigint, Waiter>();
  private readonly byData = new Map<Uint8Array, Waiter>();

  get size(): number {
    return this.byId.size;
  }

  add(waiter: Waiter): void {
    this.byId.set(waiter.request.id, waiter);
    this.byData.set(waiter.encoded, waiter);
  }

  /** The waiter whose proposal is these very bytes, removed. */
  takeByData(data: Uint8Array): Waiter | undefined {
    const waiter = this.byData.get(data);
    if (waiter !== undefined) this.remove(waiter);
    return waiter;
  }

  /** The waiter of request `id`, removed. */
  takeById(id: bigint): Waiter | undefined {
    const waiter = this.byId.get(id);
    if (waiter !== undefined) this.remove(waiter);
    return waiter;
  }

  /**
   * Rejects the waiters whose deadline passed. Waiters are kept in proposal order with one
   * timeout for all, so the scan stops at the first one still in time.
   */
  expire(nowMs: number): void {
    for (const waiter of this.byId.values()) {
      if (waiter.deadlineMs > nowMs) return;
      this.remove(waiter);
      waiter.reject(new EtcdServerError("timeout"));
    }
  }

  /** Rejects every waiter with `error`. */
  rejectAll(error: () => Error): void {
    for (const waiter of [...this.byId.values()]) {
      this.remove(waiter);
      waiter.reject(error());
    }
  }

  private remove(waiter: Waiter): void {
    this.byId.delete(waiter.request.id);
    this.byData.delete(waiter.encoded);
  }
}
