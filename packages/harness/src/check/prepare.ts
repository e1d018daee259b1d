import type { History, KeyValue, OperationRecord, Result } from "../history/types.js";
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
  /** Unknown puts whose value no read or watch showed while watches covered their key throughout. */
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
  const seen = observedRevisions(history);
  const upTo = highestRevision(history);
  const ops: SearchOp[] = [];
  const records: OperationRecord[] = [];
  let dropped = 0;
  let patched = 0;
  let unobserved = 0;
  for (const record of history.operations) {
    const { operation, outcome } = record;
    let result: Result | undefined;
    if (outcome.status === "failed") {
      dropped++;
      continue;
    }
    if (outcome.status === "ok") {
      if (operation.kind === "get" && operation.serializable === true) {
        dropped++;
        continue;
      }
      result = outcome.result;
    } else {
      if (operation.kind === "get" || operation.kind === "range" || operation.kind === "leaseGrant") {
        dropped++;
        continue;
      }
      const unique = operation.kind === "put" || operation.kind === "cas";
      const revision = unique ? seen.get(operation.value) : undefined;
      if (unique && revision === undefined && watchedThroughout(history, operation.key, upTo)) {
        unobserved++;
        continue;
      }
      if (revision !== undefined) {
        patched++;
        result =
          operation.kind === "put"
            ? { kind: "put", revision }
            : { kind: "cas", revision, succeeded: true, kv: undefined };
      }
    }
    const definite = result !== undefined;
    // A patched write did happen, but the client gave up before it did: it may land any time later.
    const returnNs = outcome.status === "ok" ? record.returnNs : NEVER_NS;
    ops.push({ operation, result, invokeNs: record.invokeNs, returnNs, definite });
    records.push(record);
  }
  return { ops, records, init: startState(history), dropped, patched, unobserved };
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
