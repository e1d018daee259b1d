import type { KeyValue, OperationRecord, WatchRecord } from "../history/types.js";
import type { AnomalyList } from "./anomaly.js";
import { type ModelEvent, sameKv } from "./model.js";
import type { LinearStep } from "./search.js";
import { deliveredEvents } from "./watch.js";
import { describeWatch, watchCovers, watchSpan } from "./watch-range.js";

/** The writes of a linearization by the revision they created. */
export interface RevisionLog {
  readonly byRevision: ReadonlyMap<
    bigint,
    { readonly events: readonly ModelEvent[]; readonly op: OperationRecord }
  >;
  /** Revisions with events, ascending. */
  readonly revisions: readonly bigint[];
}

/** Indexes a linearization's events by revision. `records[i]` is the record of search op i. */
export function revisionLog(order: readonly LinearStep[], records: readonly OperationRecord[]): RevisionLog {
  const byRevision = new Map<bigint, { events: readonly ModelEvent[]; op: OperationRecord }>();
  for (const step of order) {
    const op = records[step.op];
    if (step.events.length === 0 || op === undefined) continue;
    byRevision.set(step.after.revision, { events: step.events, op });
  }
  return { byRevision, revisions: [...byRevision.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/**
 * The rules judged against the linearized writes:
 * - reliable / resumable: between the watch's start and the last revision it vouched for (its
 *   last event, or a later progress notification), every write in its range is delivered;
 * - consistent: each delivered event is the write the checker linearized at that revision
 *   (same type, key and key-value);
 * - prev_kv: with prev_kv asked, each event carries the key as it was just before.
 */
export function checkWatchAgainstLog(
  watch: WatchRecord,
  index: number,
  log: RevisionLog,
  anomalies: AnomalyList,
): void {
  const name = describeWatch(watch, index);
  const delivered = deliveredEvents(watch);
  const span = watchSpan(watch);
  const got = new Map(delivered.map(({ event }) => [`${event.kv.modRevision}/${event.kv.key}`, event]));
  for (const { event } of delivered) {
    const revision = event.kv.modRevision;
    const write = log.byRevision.get(revision);
    const expected = write?.events.find((e) => e.kv.key === event.kv.key);
    const window = write ? [write.op] : [];
    if (expected === undefined) {
      anomalies.add(
        "watchInconsistent",
        `${name}: ${event.type} ${event.kv.key}@${revision} matches no write`,
        window,
      );
      continue;
    }
    if (!sameEvent(expected, event.type, event.kv)) {
      anomalies.add(
        "watchInconsistent",
        `${name}: event ${event.type} ${show(event.kv)} but the write at ${revision} was ${expected.type} ${show(expected.kv)}`,
        window,
      );
    }
    if (watch.prevKv && !sameKv(expected.prevKv, event.prevKv)) {
      anomalies.add(
        "watchPrevKv",
        `${name}: prev_kv of ${event.kv.key}@${revision} is ${show(event.prevKv)}, expected ${show(expected.prevKv)}`,
        window,
      );
    }
  }
  if (span === undefined) return;
  const { start, bound } = span;
  for (const revision of log.revisions) {
    if (revision < start || revision > bound) continue;
    const write = log.byRevision.get(revision);
    for (const e of write?.events ?? []) {
      if (!watchCovers(watch, e.kv.key) || got.has(`${revision}/${e.kv.key}`)) continue;
      anomalies.add(
        "watchGap",
        `${name}: ${e.type} ${e.kv.key}@${revision} not delivered (watch vouched up to ${bound})`,
        write ? [write.op] : [],
      );
    }
  }
}

function sameEvent(expected: ModelEvent, type: "put" | "delete", kv: KeyValue): boolean {
  if (expected.type !== type) return false;
  // Delete events: etcd sends the key and the delete's revision; the other fields are zero.
  if (type === "delete") return expected.kv.key === kv.key && expected.kv.modRevision === kv.modRevision;
  return sameKv(expected.kv, kv);
}

/** A key-value in one short line. */
export function show(kv: KeyValue | undefined): string {
  if (kv === undefined) return "(none)";
  return `${kv.key}=${JSON.stringify(kv.value)} c${kv.createRevision} m${kv.modRevision} v${kv.version} l${kv.lease}`;
}
