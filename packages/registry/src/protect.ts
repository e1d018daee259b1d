import { badRequest } from "./errors.js";

/**
 * Opt-in protection against a mass expiry, like Nacos's protect threshold: when the live
 * instances drop below `threshold` × the most seen within `windowMs` (e.g. many leases expired
 * together because their processes lost etcd, not because they died), discovery stops removing
 * instances and keeps showing them until the live count is back at or above `threshold` × that
 * peak, or for at most `maxHoldMs`. Callers may then pick a dead instance; the down-instance
 * policy skips it after its failures.
 */
export interface ProtectThreshold {
  /** Fraction of the recent peak below which removals are held; 0 < threshold < 1. */
  threshold: number;
  /** How far back the peak is taken, in ms; 1 000..3 600 000, default 30 000. */
  windowMs?: number;
  /**
   * Longest protection, in ms; windowMs..86 400 000, default 300 000 (at least the window, so
   * the peak that started it has left the window when it ends).
   */
  maxHoldMs?: number;
}

interface Segment {
  count: number;
  /** When the count was replaced by another. */
  endedAt: number;
}

/**
 * The protection's state machine over the live instance count, on an injectable clock. The peak
 * is a sliding-window maximum (a deque of past counts, decreasing, dropped when older than the
 * window), so each update costs amortized O(1).
 */
export class Protector {
  readonly threshold: number;
  private readonly windowMs: number;
  readonly maxHoldMs: number;
  private readonly past: Segment[] = [];
  private current = 0;
  private baseline = 0;
  private since: number | undefined;

  constructor(
    options: ProtectThreshold,
    private readonly clock: () => number = Date.now,
  ) {
    if (typeof options !== "object" || options === null) throw badRequest("protect must be { threshold }");
    const { threshold, windowMs = 30_000, maxHoldMs = 300_000 } = options;
    if (typeof threshold !== "number" || !(threshold > 0 && threshold < 1))
      throw badRequest("protect.threshold must be a number between 0 and 1 (exclusive)");
    if (!Number.isFinite(windowMs) || windowMs < 1_000 || windowMs > 3_600_000)
      throw badRequest("protect.windowMs must be in 1000..3600000");
    if (!Number.isFinite(maxHoldMs) || maxHoldMs < windowMs || maxHoldMs > 86_400_000)
      throw badRequest("protect.maxHoldMs must be in windowMs..86400000");
    this.threshold = threshold;
    this.windowMs = windowMs;
    this.maxHoldMs = maxHoldMs;
  }

  /** True while removals are held. */
  get active(): boolean {
    return this.since !== undefined;
  }

  /** Milliseconds until an active protection times out (undefined when inactive). */
  get remainingMs(): number | undefined {
    return this.since === undefined ? undefined : Math.max(0, this.since + this.maxHoldMs - this.clock());
  }

  /** The peak the current (or last) protection started from. */
  get protectedPeak(): number {
    return this.baseline;
  }

  /** The peak protection compares with (while active: the one it started from). */
  get peak(): number {
    if (this.active) return this.baseline;
    const now = this.clock();
    while (this.past.length > 0 && (this.past[0] as Segment).endedAt < now - this.windowMs) this.past.shift();
    return Math.max(this.current, this.past[0]?.count ?? 0);
  }

  /**
   * Records the live count after a change; returns `on` or `off` when protection starts or ends
   * (it ends when the count is back at `threshold` × its peak, or `maxHoldMs` after it started).
   */
  update(live: number): "on" | "off" | undefined {
    const now = this.clock();
    if (live !== this.current) {
      const ended = { count: this.current, endedAt: now };
      while (this.past.length > 0 && (this.past.at(-1) as Segment).count <= ended.count) this.past.pop();
      this.past.push(ended);
      this.current = live;
    }
    if (this.since !== undefined) {
      if (live >= this.threshold * this.baseline || now - this.since >= this.maxHoldMs) {
        this.since = undefined;
        return "off";
      }
      return undefined;
    }
    const peak = this.peak;
    if (live >= this.threshold * peak) return undefined;
    this.baseline = peak;
    this.since = now;
    return "on";
  }
}
