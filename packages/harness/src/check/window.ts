import type { OperationRecord } from "../history/types.js";
import type { ModelState } from "./model.js";
import type { Prepared } from "./prepare.js";
import { type FailedSearch, type LinearStep, NEVER_NS, type SearchOp, search } from "./search.js";

/** The part of a history that shows a linearizability failure, and the state it starts from. */
export interface FailingWindow {
  /** The operations, by invoke time. */
  readonly operations: readonly OperationRecord[];
  /** The model state before the window (after the valid prefix the search found). */
  readonly start: ModelState;
  /**
   * Writes of the valid prefix that created a revision some window operation also claims (the
   * other side of a conflict: a lost write's revision reused, the state a stale read contradicts).
   */
  readonly context: readonly OperationRecord[];
  /** The operation that could not be placed. */
  readonly culprit: OperationRecord | undefined;
  /** True when a search over the window alone, from `start`, failed again. */
  readonly verified: boolean;
}

/**
 * Shrinks a failure to a small window around the operation the search could not place (the
 * culprit). Later operations are cut: those invoked after the culprit returned become optional
 * writes (reads among them are dropped), which can only make the rest easier to linearize. Earlier
 * ones are cut by replaying the longest valid linearization the search reached: its first `i`
 * steps are taken as given and their state is the window's start. The largest `i` whose remainder
 * still fails is kept (tried at the deepest point first, then ever further back), so the window is
 * the smallest such remainder; every candidate is re-checked by the same search, so the window is
 * itself not linearizable from `start` whenever `verified` is true.
 */
export function failingWindow(prepared: Prepared, outcome: FailedSearch, deadlineMs: number): FailingWindow {
  const { deepest } = outcome;
  const culpritOp = prepared.ops[outcome.culprit];
  const culprit = prepared.records[outcome.culprit];
  const cut = culpritOp?.returnNs ?? NEVER_NS;
  const stateAt = (i: number) => (i === 0 ? prepared.init : (deepest[i - 1]?.after ?? prepared.init));
  const candidates: number[] = [];
  for (let back = 0; deepest.length - back > 0; back = back === 0 ? 1 : back * 2)
    candidates.push(deepest.length - back);
  candidates.push(0);
  for (const i of candidates) {
    const taken = new Set(deepest.slice(0, i).map((s) => s.op));
    const { ops, records } = remainder(prepared, taken, cut);
    const check = search(ops, stateAt(i), deadlineMs);
    if (check.kind === "fail") {
      const operations = inWindow(ops, records, cut);
      const shown = context(prepared, deepest.slice(0, i), operations);
      return { operations, context: shown, start: stateAt(i), culprit, verified: true };
    }
    if (check.kind === "timeout") break;
  }
  const taken = new Set(deepest.map((s) => s.op));
  const { ops, records } = remainder(prepared, taken, cut);
  const operations = inWindow(ops, records, cut);
  const start = stateAt(deepest.length);
  return { operations, context: context(prepared, deepest, operations), start, culprit, verified: false };
}

function context(
  prepared: Prepared,
  prefix: readonly LinearStep[],
  window: readonly OperationRecord[],
): OperationRecord[] {
  const claimed = new Set<bigint>();
  for (const { outcome } of window) if (outcome.status === "ok") claimed.add(outcome.result.revision);
  return prefix
    .filter((s) => s.events.length > 0 && claimed.has(s.after.revision))
    .flatMap((s) => prepared.records[s.op] ?? []);
}

function remainder(
  prepared: Prepared,
  taken: ReadonlySet<number>,
  cut: bigint,
): { ops: SearchOp[]; records: OperationRecord[] } {
  const ops: SearchOp[] = [];
  const records: OperationRecord[] = [];
  prepared.ops.forEach((op, i) => {
    if (taken.has(i)) return;
    const record = prepared.records[i];
    if (record === undefined) return;
    if (op.invokeNs <= cut) {
      ops.push(op);
      records.push(record);
      return;
    }
    const kind = op.operation.kind;
    if (kind === "get" || kind === "range" || kind === "leaseGrant") return;
    ops.push({ ...op, result: undefined, definite: false });
    records.push(record);
  });
  return { ops, records };
}

function inWindow(
  ops: readonly SearchOp[],
  records: readonly OperationRecord[],
  cut: bigint,
): OperationRecord[] {
  return records
    .filter((_, i) => (ops[i]?.invokeNs ?? cut + 1n) <= cut)
    .sort((a, b) => (a.invokeNs < b.invokeNs ? -1 : a.invokeNs > b.invokeNs ? 1 : 0));
}
