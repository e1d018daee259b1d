import type { LeaseChange, LeaseRecord } from "../lease/lease-table.js";
import { encodeSnapshot, type KvBackend, readAppliedPoint } from "../mvcc/index.js";

/** A dump of the whole state machine at an applied log point, for a follower too far behind. */
export interface SnapshotExport {
  /** Index of the last log entry the dump holds. */
  index: number;
  /** Term of that entry. */
  term: number;
  /** The dump (mvcc/snapshot-format.ts): every record of every backend table. */
  data: Uint8Array;
}

/**
 * Dumps the committed state of `kv` as read in one read transaction: writes committed meanwhile
 * are not in it, and the index and term are those stored in the dump's own meta records.
 */
export async function exportBackend(kv: KvBackend, pause: () => Promise<void>): Promise<SnapshotExport> {
  const snapshot = kv.snapshot();
  try {
    const { index, term } = readAppliedPoint(snapshot);
    return { index, term, data: await encodeSnapshot(snapshot, pause) };
  } finally {
    snapshot.release();
  }
}

/**
 * What a restore did to the lease table, for the lease listeners: a revoke for each lease that
 * is gone, a grant for each lease that is new or has another TTL (an unchanged lease keeps the
 * expiry the lessor gave it).
 */
export function restoredLeaseChanges(
  before: readonly LeaseRecord[],
  after: readonly LeaseRecord[],
): LeaseChange[] {
  const old = new Map(before.map((lease) => [lease.id, lease.ttlSeconds]));
  const kept = new Set(after.map((lease) => lease.id));
  const changes: LeaseChange[] = [];
  for (const { id } of before) if (!kept.has(id)) changes.push({ type: "revoke", id });
  for (const { id, ttlSeconds } of after) {
    if (old.get(id) !== ttlSeconds) changes.push({ type: "grant", id, ttlSeconds });
  }
  return changes;
}
