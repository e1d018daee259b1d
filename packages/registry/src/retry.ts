/** Shortest and longest wait between attempts to re-establish a registration or a discovery. */
const FIRST_MS = 100;
const LAST_MS = 5_000;

/**
 * Milliseconds to wait before retry number `attempt` (0-based): doubling from 100 ms up to 5 s,
 * each drawn uniformly from its upper half so many processes that lost the same member do not
 * retry in step.
 */
export function retryDelayMs(attempt: number): number {
  const ceiling = Math.min(LAST_MS, FIRST_MS * 2 ** Math.min(attempt, 16));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
