/**
 * A group commit in the making: the appends that will share one write and one fdatasync, encoded
 * into one buffer as they arrive (so encoding overlaps the fdatasync in flight, and callers may
 * reuse their buffers as soon as append() returns).
 */
import { COMMIT_RECORD_BYTES, encodeBatch, encodeCommit } from "./format.js";
import type { HardState, WalBatch, WalSnapshot } from "./types.js";

/** Upper bound of one group's bytes; a single larger batch still forms a group of its own. */
const MAX_GROUP_BYTES = 8 * 1024 * 1024;
const INITIAL_BUFFER_BYTES = 16 * 1024;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Appends encoded back to back, with what they change in the log. */
export class CommitGroup {
  #buf: Buffer = Buffer.allocUnsafe(0);
  #size = 0;
  readonly #waiters: Waiter[] = [];
  /** Index of the last entry (or snapshot) once the group is written. */
  lastIndex: number;
  /** Highest entry index in the group; -1 when it has none. */
  maxEntryIndex = -1;
  /** Latest hard state in the group, if any. */
  hardState: HardState | undefined;
  /** Latest snapshot marker in the group, if any. */
  snapshot: WalSnapshot | undefined;

  constructor(lastIndex: number) {
    this.lastIndex = lastIndex;
  }

  /** Whether a batch of `bytes` may join (an empty group takes any size). */
  fits(bytes: number): boolean {
    return this.#size === 0 || this.#size + bytes <= MAX_GROUP_BYTES;
  }

  /**
   * Encodes `batch` (of `bytes` bytes, leaving the log at `lastIndex`) at the end of the group;
   * the promise settles when the group is written and synced, or fails.
   */
  add(batch: WalBatch, bytes: number, lastIndex: number): Promise<void> {
    // Room is kept for the commit record that seal() adds.
    const needed = this.#size + bytes + COMMIT_RECORD_BYTES;
    if (needed > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(INITIAL_BUFFER_BYTES, 2 * this.#buf.length, needed));
      this.#buf.copy(grown, 0, 0, this.#size);
      this.#buf = grown;
    }
    this.#size = encodeBatch(this.#buf, this.#size, batch);
    this.lastIndex = lastIndex;
    const lastEntry = batch.entries?.at(-1);
    if (lastEntry !== undefined) this.maxEntryIndex = Math.max(this.maxEntryIndex, lastEntry.index);
    if (batch.hardState !== undefined) this.hardState = batch.hardState;
    if (batch.snapshot !== undefined) this.snapshot = batch.snapshot;
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * Ends the group with a commit record and returns what to write; empty when the appends hold no
   * record. Call once, when the group's write starts.
   */
  seal(): Buffer {
    if (this.#size === 0) return this.#buf.subarray(0, 0);
    this.#size = encodeCommit(this.#buf, this.#size);
    return this.#buf.subarray(0, this.#size);
  }

  /** Number of appends in the group. */
  get appends(): number {
    return this.#waiters.length;
  }

  resolve(): void {
    for (const waiter of this.#waiters) waiter.resolve();
  }

  reject(error: Error): void {
    for (const waiter of this.#waiters) waiter.reject(error);
  }
}
