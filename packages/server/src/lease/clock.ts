/** Time and timers, injected so the lessor runs on a fake clock in tests. */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `fire` once after `delayMs`; returns the cancel. */
  setTimer(delayMs: number, fire: () => void): () => void;
}

/** Longest delay Node's timers take (2^31 - 1 ms); longer waits re-arm on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The process clock: performance.now() and unref'd timers (a pending expiry keeps no process alive). */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, fire) {
    const timer = setTimeout(fire, Math.min(Math.max(delayMs, 0), MAX_TIMER_MS));
    timer.unref();
    return () => clearTimeout(timer);
  },
};
