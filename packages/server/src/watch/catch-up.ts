import type { HubContext } from "./context.js";
import { EncodedEvent } from "./encoded-event.js";
import type { Watcher } from "./watcher.js";
import { WatcherIndex } from "./watcher-index.js";

/** The stream side of a catch-up (a WatchSession). */
export interface CatchUpTarget {
  readonly unsynced: Set<Watcher>;
  readonly isBackedUp: boolean;
  sendEvents(watcher: Watcher, events: EncodedEvent[], headerField: Buffer): void;
  endCompacted(watcher: Watcher, compactRevision: number): void;
  caughtUp(): void;
}

/**
 * One step of a stream's catch-up (etcd's syncWatchers, run at once instead of every 100 ms):
 * watchers below the compaction revision are cancelled with compact_revision; the others get
 * the events of up to `catchUpRevisions` revisions read once from the backend for all of them,
 * one response per watcher. When the read reached the current revision, they join the live
 * fan-out: every later revision reaches them through the hub, and `nextRevision` keeps the hub
 * from sending again what the backend already gave them. Returns true while work remains.
 */
export function catchUpStep(session: CatchUpTarget, hub: HubContext): boolean {
  const { history, limits } = hub;
  const compactRevision = history.compactRevision;
  let from = Number.POSITIVE_INFINITY;
  for (const watcher of session.unsynced) {
    if (watcher.nextRevision < compactRevision) session.endCompacted(watcher, compactRevision);
    else from = Math.min(from, watcher.nextRevision);
  }
  const current = history.currentRevision;
  if (session.unsynced.size > 0) {
    const batches = from > current ? [] : history.eventsSince(from, limits.catchUpRevisions);
    const complete = batches.length < limits.catchUpRevisions;
    const through = complete ? current : (batches.at(-1)?.revision ?? current);
    const pending = new Map<Watcher, EncodedEvent[]>();
    const index = new WatcherIndex<Watcher>();
    for (const watcher of session.unsynced) {
      index.add(watcher);
      pending.set(watcher, []);
    }
    for (const { revision, events } of batches) {
      for (const event of events) {
        const encoded = new EncodedEvent(revision, event);
        index.forEachMatch(encoded.key, (watcher) => {
          if (revision >= watcher.nextRevision && watcher.accepts(encoded))
            pending.get(watcher)?.push(encoded);
        });
      }
    }
    const headerField = hub.headerField(current);
    for (const [watcher, events] of pending) {
      if (session.isBackedUp) return false;
      if (events.length > 0) session.sendEvents(watcher, events, headerField);
      watcher.nextRevision = Math.max(watcher.nextRevision, through + 1);
      if (complete) {
        watcher.synced = true;
        session.unsynced.delete(watcher);
      }
    }
  }
  if (session.unsynced.size > 0) return !session.isBackedUp;
  session.caughtUp();
  return false;
}
