import type { WatchEventRecord, WatchRecord } from "../history/types.js";
import type { AnomalyList } from "./anomaly.js";
import { describeWatch } from "./watch-range.js";

/** An event with the index of the response that carried it. */
export interface DeliveredEvent {
  readonly event: WatchEventRecord;
  readonly response: number;
}

/** Every event of a watch in delivery order. */
export function deliveredEvents(watch: WatchRecord): DeliveredEvent[] {
  return watch.responses.flatMap((response, index) =>
    response.events.map((event) => ({ event, response: index })),
  );
}

/**
 * The rules that need no other history, as etcd's robustness tests state them:
 * - ordered: event revisions never go down;
 * - unique: no (revision, key) is delivered twice;
 * - atomic: all events of one revision arrive in one response;
 * - bookmarkable: a progress notification at P comes after every event ≤ P and before every
 *   event > P;
 * - resumable (start): a watch from revision R delivers nothing before R.
 */
export function checkWatchShape(watch: WatchRecord, index: number, anomalies: AnomalyList): void {
  const name = describeWatch(watch, index);
  const events = deliveredEvents(watch);
  const seen = new Set<string>();
  const responseOfRevision = new Map<bigint, number>();
  let last: DeliveredEvent | undefined;
  for (const delivered of events) {
    const { kv } = delivered.event;
    const revision = kv.modRevision;
    if (last !== undefined && revision < last.event.kv.modRevision) {
      anomalies.add(
        "watchUnordered",
        `${name}: revision ${revision} delivered after ${last.event.kv.modRevision}`,
      );
    }
    const id = `${revision}/${kv.key}`;
    if (seen.has(id)) anomalies.add("watchDuplicate", `${name}: ${kv.key}@${revision} delivered twice`);
    seen.add(id);
    const first = responseOfRevision.get(revision);
    if (first === undefined) responseOfRevision.set(revision, delivered.response);
    else if (first !== delivered.response) {
      anomalies.add(
        "watchNotAtomic",
        `${name}: revision ${revision} split over responses ${first} and ${delivered.response}`,
      );
    }
    if (watch.startRevision > 0n && revision < watch.startRevision) {
      anomalies.add("watchResumable", `${name}: delivered revision ${revision}, before its start`);
    }
    last = delivered;
  }
  checkProgress(watch, name, anomalies);
}

function checkProgress(watch: WatchRecord, name: string, anomalies: AnomalyList): void {
  let maxSoFar = 0n;
  let progress = 0n;
  for (const response of watch.responses) {
    for (const { kv } of response.events) {
      if (kv.modRevision <= progress) {
        anomalies.add(
          "watchBookmark",
          `${name}: revision ${kv.modRevision} delivered after progress at ${progress}`,
        );
      }
      if (kv.modRevision > maxSoFar) maxSoFar = kv.modRevision;
    }
    if (response.progressNotify === true) {
      if (response.revision < maxSoFar) {
        anomalies.add(
          "watchBookmark",
          `${name}: progress at ${response.revision} after revision ${maxSoFar}`,
        );
      }
      if (response.revision > progress) progress = response.revision;
    }
  }
}
