import type { History, KeyValue, OperationRecord } from "../history/types.js";
import type { Anomaly } from "./anomaly.js";

/** The last acknowledged write of a key. */
interface LastWrite {
  readonly record: OperationRecord;
  readonly revision: bigint;
  /** The value written; undefined for a delete. */
  readonly value: string | undefined;
  readonly lease: bigint;
}

/**
 * Checks that no acknowledged write was lost: for each key, the acknowledged put/delete/cas with
 * the highest revision must still be what `finalState` (a read of the whole keyspace, taken after
 * the faults healed, at a revision at or above every acknowledged write) shows, unless a later
 * write may have overwritten it: a newer mod revision in the final read, or, for a key that is
 * gone, an unacknowledged delete of it or the end of its lease.
 */
export function checkAcknowledgedWrites(history: History, finalState: readonly KeyValue[]): Anomaly[] {
  const finalByKey = new Map(finalState.map((kv) => [kv.key, kv]));
  const anomalies: Anomaly[] = [];
  for (const [key, last] of lastWrites(history)) {
    const now = finalByKey.get(key);
    const lost = (why: string) =>
      anomalies.push({
        kind: "lostWrite",
        message: `${key}: acknowledged write at ${last.revision} ${why}`,
        window: [last.record],
      });
    if (now !== undefined) {
      if (now.modRevision < last.revision)
        lost(`is missing; the final read has mod revision ${now.modRevision}`);
      else if (now.modRevision === last.revision && now.value !== last.value) {
        lost(`is not what the final read holds at that revision (${JSON.stringify(now.value)})`);
      }
      continue;
    }
    if (last.value !== undefined && !mayHaveVanished(history, key, last)) lost("is missing: the key is gone");
  }
  return anomalies;
}

function lastWrites(history: History): Map<string, LastWrite> {
  const last = new Map<string, LastWrite>();
  const note = (key: string, write: LastWrite) => {
    const before = last.get(key);
    if (before === undefined || before.revision < write.revision) last.set(key, write);
  };
  for (const record of history.operations) {
    const { operation: op, outcome } = record;
    if (outcome.status !== "ok") continue;
    const result = outcome.result;
    if (op.kind === "put" && result.kind === "put") {
      note(op.key, { record, revision: result.revision, value: op.value, lease: op.lease ?? 0n });
    } else if (op.kind === "cas" && result.kind === "cas" && result.succeeded) {
      note(op.key, { record, revision: result.revision, value: op.value, lease: 0n });
    } else if (op.kind === "delete" && result.kind === "delete" && result.deleted > 0n) {
      note(op.key, { record, revision: result.revision, value: undefined, lease: 0n });
    }
  }
  return last;
}

/**
 * A put's key may be gone without loss: an unacknowledged delete of it, or its lease ended (a
 * revoke, or the TTL running out while the faults lasted).
 */
function mayHaveVanished(history: History, key: string, last: LastWrite): boolean {
  if (last.lease !== 0n) return true;
  return history.operations.some(
    ({ operation: op, outcome }) => op.kind === "delete" && op.key === key && outcome.status === "unknown",
  );
}
