import type { Operation, Result } from "../history/types.js";
import { type ModelEvent, type ModelState, step } from "./model.js";

/**
 * One operation as the search sees it. `definite` operations (an `ok` answer) must be linearized
 * between invoke and return with exactly their result; optional ones (an `unknown` outcome) may
 * take effect at any point after their invoke, or never.
 */
export interface SearchOp {
  readonly operation: Operation;
  /** The answer to match; undefined for optional operations. */
  readonly result: Result | undefined;
  readonly invokeNs: bigint;
  /** Ignored for optional operations (their return is {@link NEVER_NS}). */
  readonly returnNs: bigint;
  readonly definite: boolean;
}

/** One linearized step: which operation, and the events of the revision it created. */
export interface LinearStep {
  readonly op: number;
  readonly events: readonly ModelEvent[];
  /** The model state after the step. */
  readonly after: ModelState;
}

/** A search that found no linearization (`fail`) or ran out of time (`timeout`). */
export interface FailedSearch {
  readonly kind: "fail" | "timeout";
  /** The longest valid linearization the search reached. */
  readonly deepest: readonly LinearStep[];
  /** The definite operation that could not be placed after `deepest` (-1 on timeout). */
  readonly culprit: number;
  readonly explored: number;
}

/** How the search ended. */
export type SearchOutcome =
  | { readonly kind: "ok"; readonly order: readonly LinearStep[]; readonly explored: number }
  | FailedSearch;

const NIL = -1;

/** A return time after every other: operations that may take effect at any time after invoke. */
export const NEVER_NS = 1n << 63n;

/**
 * Wing & Gong's search with Lowe's/porcupine's memoization of (linearized set, model state):
 * a doubly linked list of call and return entries sorted by time; the calls before the first
 * return are the candidates; a candidate the model accepts is lifted out and the search goes on;
 * reaching a return entry means its operation could not be placed, so the last choice is undone.
 *
 * Revisions prune hard: a write is accepted only when the model's revision is one below its
 * answer's, a read only at its own revision, so almost every candidate but the right one fails
 * at once. The linearized set is kept as a 64-bit Zobrist hash (two xor-ed 32-bit words per
 * operation); a collision could prune a valid branch (a false anomaly) with probability ~n²/2⁶⁴.
 *
 * No partitioning per key: every write bumps the one global revision and every read returns it,
 * so operations on different keys constrain each other's order; the revision pruning instead
 * keeps the search near-linear.
 */
export function search(ops: readonly SearchOp[], init: ModelState, deadlineMs: number): SearchOutcome {
  const list = buildList(ops);
  const zobrist = zobristWords(ops.length);
  const cache = new Set<string>();
  const stack: { entry: number; before: ModelState; step: LinearStep }[] = [];
  let deepest: LinearStep[] = [];
  let culprit = NIL;
  let state = init;
  let h1 = 0;
  let h2 = 0;
  let definiteLeft = ops.filter((op) => op.definite).length;
  let entry = list.next[list.head] ?? NIL;
  let explored = 0;
  while (definiteLeft > 0) {
    explored++;
    if ((explored & 4095) === 0 && Date.now() > deadlineMs) {
      return { kind: "timeout", deepest: deepestOf(stack, deepest), culprit: NIL, explored };
    }
    const opIndex = list.op[entry] ?? NIL;
    const op = ops[opIndex];
    if (op === undefined) throw new Error("search: ran past the end of the entry list");
    if (list.isCall[entry] === 1) {
      const next = step(state, op.operation, op.result);
      if (next !== undefined) {
        const n1 = (h1 ^ (zobrist[2 * opIndex] ?? 0)) >>> 0;
        const n2 = (h2 ^ (zobrist[2 * opIndex + 1] ?? 0)) >>> 0;
        const key = `${n1}:${n2}:${next.state.cacheKey}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ entry, before: state, step: { op: opIndex, events: next.events, after: next.state } });
          state = next.state;
          h1 = n1;
          h2 = n2;
          list.lift(entry);
          if (op.definite) definiteLeft--;
          entry = list.next[list.head] ?? NIL;
          continue;
        }
      }
      entry = list.next[entry] ?? NIL;
      continue;
    }
    // A return entry: its operation was not placed in time. Undo the last choice.
    if (stack.length > deepest.length || culprit === NIL) {
      deepest = stack.map((s) => s.step);
      culprit = opIndex;
    }
    const top = stack.pop();
    if (top === undefined) return { kind: "fail", deepest, culprit, explored };
    state = top.before;
    h1 = (h1 ^ (zobrist[2 * top.step.op] ?? 0)) >>> 0;
    h2 = (h2 ^ (zobrist[2 * top.step.op + 1] ?? 0)) >>> 0;
    list.unlift(top.entry);
    if (ops[top.step.op]?.definite === true) definiteLeft++;
    entry = list.next[top.entry] ?? NIL;
  }
  return { kind: "ok", order: stack.map((s) => s.step), explored };
}

function deepestOf(stack: readonly { step: LinearStep }[], deepest: LinearStep[]): LinearStep[] {
  return stack.length > deepest.length ? stack.map((s) => s.step) : deepest;
}

/** The entry list: call and return entries by time, linked through index arrays. */
interface EntryList {
  readonly head: number;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly op: Int32Array;
  readonly isCall: Uint8Array;
  readonly match: Int32Array;
  lift(call: number): void;
  unlift(call: number): void;
}

function buildList(ops: readonly SearchOp[]): EntryList {
  const entries = ops.flatMap((op, i) => [
    { time: op.invokeNs, call: true, op: i },
    { time: op.definite ? op.returnNs : NEVER_NS, call: false, op: i },
  ]);
  // Calls before returns at equal times: touching intervals count as concurrent (the lenient side).
  entries.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : Number(b.call) - Number(a.call)));
  const size = entries.length;
  const head = size;
  const next = new Int32Array(size + 1).fill(NIL);
  const prev = new Int32Array(size + 1).fill(NIL);
  const op = new Int32Array(size);
  const isCall = new Uint8Array(size);
  const match = new Int32Array(size);
  const callOf = new Int32Array(ops.length);
  entries.forEach((e, i) => {
    op[i] = e.op;
    isCall[i] = e.call ? 1 : 0;
    if (e.call) callOf[e.op] = i;
    else {
      const call = callOf[e.op] ?? 0;
      match[call] = i;
      match[i] = call;
    }
    prev[i] = i === 0 ? head : i - 1;
    next[i] = i + 1 < size ? i + 1 : NIL;
  });
  next[head] = size > 0 ? 0 : NIL;
  const unlink = (e: number) => {
    const p = prev[e] ?? NIL;
    const n = next[e] ?? NIL;
    next[p] = n;
    if (n !== NIL) prev[n] = p;
  };
  const relink = (e: number) => {
    const p = prev[e] ?? NIL;
    const n = next[e] ?? NIL;
    next[p] = e;
    if (n !== NIL) prev[n] = e;
  };
  return {
    head,
    next,
    prev,
    op,
    isCall,
    match,
    lift(call) {
      unlink(call);
      unlink(match[call] ?? NIL);
    },
    unlift(call) {
      relink(match[call] ?? NIL);
      relink(call);
    },
  };
}

/** Fixed pseudo-random words (splitmix32-style), so a check is deterministic. */
function zobristWords(count: number): Uint32Array {
  const words = new Uint32Array(2 * count);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    words[i] = (z ^ (z >>> 16)) >>> 0;
  }
  return words;
}
