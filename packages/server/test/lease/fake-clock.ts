import type { Clock } from "../../src/lease/clock.js";

/** A manual clock: time moves only through {@link FakeClock.advance}, which fires due timers in order. */
export class FakeClock implements Clock {
  private nowMs = 1_000;
  private timers: { atMs: number; fire: () => void; seq: number }[] = [];
  private seq = 0;

  now(): number {
    return this.nowMs;
  }

  setTimer(delayMs: number, fire: () => void): () => void {
    const timer = { atMs: this.nowMs + Math.max(0, delayMs), fire, seq: this.seq++ };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers armed and not yet fired. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that comes due, earliest first. */
  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.atMs <= end)
        .sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.nowMs = Math.max(this.nowMs, due.atMs);
      due.fire();
    }
    this.nowMs = end;
  }
}
