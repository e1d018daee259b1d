/**
 * Checks an append against the log so far, so that what reaches the disk always replays: entries
 * contiguous, no gap after the last index, nothing at or below the snapshot, numbers that fit.
 */
import { MAX_PAYLOAD_BYTES } from "./format.js";
import type { HardState, WalBatch, WalEntry, WalSnapshot } from "./types.js";

/** Where the log stands: last entry index (or snapshot index) and snapshot index (0 = none). */
export interface LogPosition {
  lastIndex: number;
  snapshotIndex: number;
}

const MAX_UINT64 = 2n ** 64n - 1n;
/** An entry's payload holds index and term before the data. */
const MAX_ENTRY_DATA_BYTES = MAX_PAYLOAD_BYTES - 16;

/** Returns the position after `batch`; throws RangeError when `batch` would not replay. */
export function checkBatch(batch: WalBatch, position: LogPosition): LogPosition {
  let { lastIndex, snapshotIndex } = position;
  if (batch.snapshot !== undefined) {
    checkSnapshot(batch.snapshot, snapshotIndex);
    snapshotIndex = batch.snapshot.index;
    lastIndex = Math.max(lastIndex, snapshotIndex);
  }
  const entries = batch.entries ?? [];
  entries.forEach((entry, k) => {
    checkEntry(entry);
    const previous = k === 0 ? undefined : entries[k - 1]!.index;
    if (previous !== undefined && entry.index !== previous + 1) {
      throw new RangeError(`wal: entry ${entry.index} follows entry ${previous} in one batch`);
    }
  });
  const first = entries[0]?.index;
  if (first !== undefined) {
    if (first <= snapshotIndex)
      throw new RangeError(`wal: entry ${first} is covered by snapshot ${snapshotIndex}`);
    if (first > lastIndex + 1) throw new RangeError(`wal: entry ${first} leaves a gap after ${lastIndex}`);
    lastIndex = entries.at(-1)!.index;
  }
  if (batch.hardState !== undefined) checkHardState(batch.hardState);
  return { lastIndex, snapshotIndex };
}

function checkSnapshot(snapshot: WalSnapshot, snapshotIndex: number): void {
  checkCount("snapshot index", snapshot.index);
  checkCount("snapshot term", snapshot.term);
  if (snapshot.index < snapshotIndex) {
    throw new RangeError(`wal: snapshot ${snapshot.index} is older than snapshot ${snapshotIndex}`);
  }
}

function checkEntry(entry: WalEntry): void {
  checkCount("entry index", entry.index);
  checkCount("entry term", entry.term);
  if (entry.index < 1) throw new RangeError("wal: entry indexes start at 1");
  if (entry.data.length > MAX_ENTRY_DATA_BYTES) {
    throw new RangeError(`wal: entry ${entry.index} data of ${entry.data.length} bytes is too large`);
  }
}

function checkHardState(state: HardState): void {
  checkCount("hard state term", state.term);
  checkCount("hard state commit", state.commit);
  if (state.vote < 0n || state.vote > MAX_UINT64)
    throw new RangeError("wal: hard state vote is not a uint64");
}

function checkCount(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`wal: ${what} ${value} is not a safe integer >= 0`);
}
