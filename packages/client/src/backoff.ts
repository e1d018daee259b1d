/** Settings of an exponential backoff with jitter. */
export interface BackoffOptions {
  /** First delay in milliseconds. */
  initialMs: number;
  /** Largest delay in milliseconds. */
  maxMs: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Fraction of each delay that is randomised, 0..1. Default 0.2. */
  jitter?: number;
}

/** Delays for successive attempts: initialMs, initialMs*factor, ... capped at maxMs, jittered. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** The next delay in milliseconds. */
  next(): number {
    const { initialMs, maxMs, factor = 2, jitter = 0.2 } = this.options;
    const base = Math.min(maxMs, initialMs * factor ** this.attempt);
    this.attempt++;
    return Math.max(0, base * (1 - jitter + 2 * jitter * Math.random()));
  }

  /** Starts again from `initialMs` after a success. */
  reset(): void {
    this.attempt = 0;
  }
}
