import { mvccpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";
import { decodeKeyValue } from "./kv-codec.js";
import { decodeRevision, encodeRevision } from "./revision.js";
import type { MvccStore } from "./store.js";

/** The events of one revision. */
export interface RevisionEvents {
  revision: number;
  events: mvccpb.Event[];
}

/**
 * Reads the events of revisions [startRevision, current] back from the backend, oldest first,
 * at most `maxRevisions` revisions (etcd's watch catch-up scans its key bucket the same way,
 * 1000 revisions per batch). Events look like the live ones of `onEvents`: a PUT carries the
 * KeyValue, a DELETE the key and mod_revision. A start below the compaction revision is
 * `compacted`; at the compaction revision, a tombstone that physical compaction already
 * removed is missing, as in etcd.
 */
export function eventsSince(store: MvccStore, startRevision: number, maxRevisions: number): RevisionEvents[] {
  if (startRevision < store.compactRevision) throw new EtcdServerError("compacted");
  const batches: RevisionEvents[] = [];
  let current: RevisionEvents | undefined;
  const from = encodeRevision(Math.max(startRevision, 0), 0);
  for (const { key, value } of store.backend.scan(from, store.currentRevision)) {
    const rev = decodeRevision(key);
    if (current?.revision !== rev.main) {
      if (batches.length === maxRevisions) break;
      current = { revision: rev.main, events: [] };
      batches.push(current);
    }
    const kv = decodeKeyValue(value);
    if (rev.tombstone) {
      const deleted = mvccpb.KeyValue.fromPartial({ key: kv.key, modRevision: BigInt(rev.main) });
      current.events.push({ type: mvccpb.Event_EventType.DELETE, kv: deleted, prevKv: undefined });
    } else {
      current.events.push({ type: mvccpb.Event_EventType.PUT, kv, prevKv: undefined });
    }
  }
  return batches;
}
