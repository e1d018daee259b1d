import { keywaypb } from "@keyway/api";
import type { LogEntry, StateMachine } from "../apply/index.js";
import type { WalEntry } from "../wal/index.js";

/** Entries re-applied per backend transaction during recovery; bounds one transaction's size. */
const REPLAY_BATCH = 1000;

/**
 * Re-applies the WAL entries the backend has not seen. The backend stores its applied index in
 * the same transaction as the data, so entries at or below it are skipped and replay is
 * idempotent however many times a crash interrupts it. Returns the last index in the log and how
 * many entries were applied again.
 *
 * Refuses (throws) a backend that does not fit the log: one whose applied index is below the
 * WAL's snapshot marker `snapshotIndex` (the entries in between were released from the log on the
 * promise that the backend held them: an older backend, e.g. restored from a backup), or one that
 * the first entry to replay does not follow (a gap: entries would be applied on top of a state
 * that misses some).
 */
export function replayWal(
  entries: readonly WalEntry[],
  stateMachine: StateMachine,
  snapshotIndex = 0,
): { lastIndex: number; replayed: number } {
  const applied = stateMachine.appliedIndex;
  if (applied < snapshotIndex) {
    throw new Error(
      `recovery: the backend is at applied index ${applied} but the WAL released every entry up to ${snapshotIndex}; the backend is older than the log (restored from a backup?)`,
    );
  }
  const first = entries.find((entry) => entry.index > applied);
  if (first !== undefined && first.index !== applied + 1) {
    throw new Error(
      `recovery: the backend is at applied index ${applied} but the WAL's next entry is ${first.index}; entries in between are missing`,
    );
  }
  let lastIndex = stateMachine.appliedIndex;
  let replayed = 0;
  let batch: LogEntry[] = [];
  for (const entry of entries) {
    lastIndex = Math.max(lastIndex, entry.index);
    if (entry.index <= stateMachine.appliedIndex) continue;
    batch.push({
      index: entry.index,
      term: entry.term,
      request: keywaypb.InternalRequest.decode(entry.data),
    });
    replayed++;
    if (batch.length >= REPLAY_BATCH) {
      stateMachine.applyBatch(batch);
      batch = [];
    }
  }
  if (batch.length > 0) stateMachine.applyBatch(batch);
  return { lastIndex, replayed };
}
