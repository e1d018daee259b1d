import type { History, KeyValue, Operation, OperationRecord, Result } from "../history/types.js";
import { highestRevision, watchedThroughout } from "./coverage.js";
import { initialState, type ModelState, makeState } from "./model.js";
import { NEVER_NS, type SearchOp } from "./search.js";

/** The search's view of a history: its operations and where each came from. */
export interface Prepared {
  readonly ops: readonly SearchOp[];
  /** `records[i]` is the recorded operation behind `ops[i]`. */
  readonly records: readonly OperationRecord[];
  readonly init: ModelState;
  /** Operations dropped because they cannot matter (failed ones, unknown reads and grants). */
  readonly dropped: number;
  /** Unknown puts whose unique value a read or watch showed, turned into known answers. */
  readonly patched: number;
  /** Unknown writes that watches covering their keys throughout would have shown, and did not. */
  readonly unobserved: number;
}

/** The model state a history starts from. */
export function startState(history: History): ModelState {
  const initial = history.initial;
  if (initial === undefined) return initialState();
  return makeState(initial.revision, new Map(initial.kvs.map((kv) => [kv.key, kv])), new Set());
}

/**
 * Turns a history into search operations. Failed operations took no effect and are dropped, as
 * are unknown reads (no effect either) and unknown lease grants (their id is unknown, so no later
 * operation can use the lease; an orphan lease with no keys changes nothing). Serializable gets
 * may be stale by design and are not judged here.
 *
 * An unknown put or cas whose value (unique per run) appears with a mod revision in a read or a
 * watch event certainly took effect at that revision: it becomes a definite operation answered
 * with that revision (as etcd's robustness tests patch their histories). One whose value nothing
 * showed, while the watches vouched for its key over the whole run, never took effect: a watch
 * would have delivered it (had a watch missed it, the revision it took stays unexplained and the
 * search fails: an anomaly either way). This turns most guesses of the search into facts.
 */
export function prepare(history: History): Prepared {
  const facts = observedFacts(history);
  const ops: SearchOp[] = [];
  const records: OperationRecord[] = [];
  const counts = { dropped: 0, patched: 0, unobserved: 0 };
  for (const record of history.operations) {
    const { operation, outcome } = record;
    let result: Result | undefined;
    if (outcome.status === "failed" || (operation.kind === "get" && operation.serializable === true)) {
      counts.dropped++;
      continue;
    }
    if (outcome.status === "ok") result = outcome.result;
    else {
      const judged = judgeUnknown(operation, facts);
      if (judged === "dropped" || judged === "unobserved") {
        counts[judged]++;
        continue;
      }
      if (judged !== undefined) counts.patched++;
      result = judged;
    }
    const definite = result !== undefined;
    // A patched write did happen, but the client gave up before it did: it may land any time later.
    const returnNs = outcome.status === "ok" ? record.returnNs : NEVER_NS;
    ops.push({ operation, result, invokeNs: record.invokeNs, returnNs, definite });
    records.push(record);
  }
  return { ops, records, init: startState(history), ...counts };
}

/** What the reads and watches of a history prove about its unknown writes. */
interface Facts {
  readonly history: History;
  /** Value → the mod revision it was written at. */
  readonly seen: ReadonlyMap<string, bigint>;
  readonly upTo: bigint;
  /** Keys with a delivered delete event at a revision no acknowledged or patched write claims. */
  readonly unclaimedDeletes: ReadonlySet<string>;
}

function observedFacts(history: History): Facts {
  const seen = observedRevisions(history);
  const claimed = new Set(seen.values());
  for (const { outcome } of history.operations) {
    if (outcome.status !== "ok") continue;
    const r = outcome.result;
    if (r.kind === "put" || (r.kind === "cas" && r.succeeded) || (r.kind === "delete" && r.deleted > 0n)) {
      claimed.add(r.revision);
    }
  }
  const unclaimedDeletes = new Set<string>();
  for (const watch of history.watches) {
    for (const { events } of watch.responses) {
      for (const { type, kv } of events)
        if (type === "delete" && !claimed.has(kv.modRevision)) unclaimedDeletes.add(kv.key);
    }
  }
  return { history, seen, upTo: highestRevision(history), unclaimedDeletes };
}

/**
 * An unknown call: dropped (no effect possible), `unobserved` (it would have been seen), a
 * patched answer, or undefined (optional: it may or may not have taken effect).
 * - put/cas: patched when its unique value was seen; unobserved when the watches covered its key
 *   throughout and never showed it.
 * - delete: unobserved when the watches covered its key throughout and no delete of the key is
 *   left unexplained (an applied delete of an absent key is a no-op: the same as not applied).
 * - lease revoke: the same, for every key ever put with the lease. (Assuming the lease lived on
 *   is the lenient side for later puts on it.)
 */
function judgeUnknown(operation: Operation, facts: Facts): Result | "dropped" | "unobserved" | undefined {
  const { history, upTo } = facts;
  switch (operation.kind) {
    case "get":
    case "range":
    case "leaseGrant":
      return "dropped";
    case "put":
    case "cas": {
      const revision = facts.seen.get(operation.value);
      if (revision === undefined)
        return watchedThroughout(history, operation.key, upTo) ? "unobserved" : undefined;
      return operation.kind === "put"
        ? { kind: "put", revision }
        : { kind: "cas", revision, succeeded: true, kv: undefined };
    }
    case "delete":
      return !facts.unclaimedDeletes.has(operation.key) && watchedThroughout(history, operation.key, upTo)
        ? "unobserved"
        : undefined;
    case "leaseRevoke": {
      const keys = history.operations.flatMap(({ operation: o }) =>
        o.kind === "put" && o.lease === operation.lease ? [o.key] : [],
      );
      const unseen = (key: string) =>
        !facts.unclaimedDeletes.has(key) && watchedThroughout(history, key, upTo);
      return keys.every(unseen) ? "unobserved" : undefined;
    }
  }
}

/**
 * Value → the mod revision it was written at, from every read and watch event. A value seen at
 * two different revisions is left out (it was not unique, so it proves nothing).
 */
function observedRevisions(history: History): Map<string, bigint> {
  const seen = new Map<string, bigint>();
  const ambiguous = new Set<string>();
  const note = (kv: KeyValue | undefined) => {
    if (kv === undefined || kv.version === 0n) return;
    const before = seen.get(kv.value);
    if (before !== undefined && before !== kv.modRevision) ambiguous.add(kv.value);
    seen.set(kv.value, kv.modRevision);
  };
  for (const { outcome } of history.operations) {
    if (outcome.status !== "ok") continue;
    const result = outcome.result;
    if (result.kind === "get" || result.kind === "cas") note(result.kv);
    if (result.kind === "range") for (const kv of result.kvs) note(kv);
  }
  for (const watch of history.watches) {
    for (const response of watch.responses) {
      for (const event of response.events) if (event.type === "put") note(event.kv);
    }
  }
  for (const value of ambiguous) seen.delete(value);
  return seen;
}
