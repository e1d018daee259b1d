/**
 * Which WAL writes are made on the event loop's own thread rather than on the thread pool.
 *
 * A thread-pool write pays two cross-thread wake-ups, and on a small VM these cost about as much
 * as a small O_DSYNC write itself (docs/benchmarks.md: 0.45 ms against 0.3 ms per single-client
 * proposal). An inline write stalls everything else for its duration, so it is kept for what
 * makes it pay: small writes (one client's entry, not a 1000-client group commit, during whose
 * write the loop decodes the next group's requests) on a disk that answers fast. A disk that
 * turns slow sends writes back to the thread pool until it recovers.
 */

/** Writes above this many bytes always go to the thread pool. */
export const INLINE_MAX_BYTES = 2 * 1024;
/** Recent writes slower than this on average (ms) send writes to the thread pool. */
export const INLINE_MAX_WRITE_MS = 1;
/** Weight of the newest write in the running average of write times. */
const NEWEST_WEIGHT = 0.25;

/** Decides per write, from its size and how long recent writes took. */
export class InlineWrites {
  #averageMs = 0;

  /** Whether a write of `bytes` should be made inline. */
  wanted(bytes: number): boolean {
    return bytes <= INLINE_MAX_BYTES && this.#averageMs <= INLINE_MAX_WRITE_MS;
  }

  /** Records how long a durable write took, wherever it was made. */
  observed(ms: number): void {
    this.#averageMs += (ms - this.#averageMs) * NEWEST_WEIGHT;
  }
}
