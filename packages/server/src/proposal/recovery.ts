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
 */
export function replayWal(
  entries: readonly WalEntry[],
  stateMachine: StateMachine,
): { lastIndex: number; replayed: number } {
  let lastIndex = stateMachine.appliedIndex;
  let replayed = 0;
  let batch: LogEntry[] = [];
  for (const entry of entries) {
    lastIndex = Math.max(lastIndex, entry.index);
    if (entry.index <= stateMachine.appliedIndex) continue;
    batch.push({ index: entry.index, request: keywaypb.InternalRequest.decode(entry.data) });
    replayed++;
    if (batch.length >= REPLAY_BATCH) {
      stateMachine.applyBatch(batch);
      batch = [];
    }
  }
  if (batch.length > 0) stateMachine.applyBatch(batch);
  return { lastIndex, replayed };
}
