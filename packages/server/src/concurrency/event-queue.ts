import type { mvccpb } from "@keyway/api";
import type { LocalKv } from "./local-kv.js";

/** One applied event with its revision. */
export interface RevisionEvent {
  event: mvccpb.Event;
  revision: number;
}

/**
 * Most events an observer may have pending: a consumer that falls this far behind the leader's
 * proclamations is cut off instead of holding memory without bound.
 */
export const MAX_PENDING_EVENTS = 10_000;

/**
 * The applied events of keys under `prefix`, from the moment of construction on, pulled one at a
 * time. Construct it right after a synchronous read to see exactly the revisions after that read.
 */
export class EventQueue implements Disposable {
  private readonly pending: RevisionEvent[] = [];
  private wake: (() => void) | undefined;
  private overflow = false;
  private readonly unsubscribe: () => void;

  constructor(kv: LocalKv, prefix: Buffer) {
    this.unsubscribe = kv.onPrefix(prefix, (event, revision) => {
      if (this.overflow) return;
      if (this.pending.length >= MAX_PENDING_EVENTS) this.overflow = true;
      else this.pending.push({ event, revision });
      this.wake?.();
    });
  }

  /** The next matching event; rejects when `signal` aborts or the consumer fell too far behind. */
  async next(signal: AbortSignal): Promise<RevisionEvent> {
    for (;;) {
      signal.throwIfAborted();
      if (this.overflow) throw new Error("election: observer fell too far behind");
      const item = this.pending.shift();
      if (item !== undefined) return item;
      await new Promise<void>((resolve) => {
        const woken = () => {
          this.wake = undefined;
          signal.removeEventListener("abort", woken);
          resolve();
        };
        this.wake = woken;
        signal.addEventListener("abort", woken, { once: true });
      });
    }
  }

  [Symbol.dispose](): void {
    this.unsubscribe();
  }
}
