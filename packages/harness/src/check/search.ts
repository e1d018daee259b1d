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

/** Most (linearized set, state) pairs the search remembers (~100 MB of short keys). */
export const MAX_CACHE_ENTRIES = 2_000_000;

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
 * operation) and the state as a 64-bit hash; a collision could prune a valid branch (a false
 * anomaly) with probability ~n²/2⁶⁴ for n explored steps.
 *
 * No partitioning per key: every write bumps the one global revision and every read returns it,
 * so operations on different keys constrain each other's order; the revision pruning instead
 * keeps the search near-linear.
 */
export function search(ops: readonly SearchOp[], init: ModelState, deadlineMs: number): SearchOutcome {
  return new Searcher(ops, init).run(deadlineMs);
}

/** A choice on the search's stack: the entry lifted, the state before it, and the pass it was found in. */
interface Choice {
  readonly entry: number;
  readonly before: ModelState;
  readonly step: LinearStep;
  readonly pass: 1 | 2;
}

/**
 * The search's state. Candidates are scanned in two passes: definite operations first, then
 * optional ones. An unknown write is thus only tried where no definite operation fits (a
 * revision gap it may fill), instead of in every order at every step; the search stays complete,
 * since on backtracking the optional candidates of that node are still tried.
 */
class Searcher {
  private readonly list: EntryList;
  private readonly zobrist: Uint32Array;
  private readonly cache = new Set<string>();
  private readonly stack: Choice[] = [];
  private deepest: LinearStep[] = [];
  private culprit = NIL;
  private state: ModelState;
  private h1 = 0;
  private h2 = 0;
  private definiteLeft: number;
  private entry: number;
  private pass: 1 | 2 = 1;

  constructor(
    private readonly ops: readonly SearchOp[],
    init: ModelState,
  ) {
    this.list = buildList(ops);
    this.zobrist = zobristWords(ops.length);
    this.state = init;
    this.definiteLeft = ops.filter((op) => op.definite).length;
    this.entry = this.list.next[this.list.head] ?? NIL;
  }

  run(deadlineMs: number): SearchOutcome {
    let explored = 0;
    while (this.definiteLeft > 0) {
      explored++;
      if ((explored & 4095) === 0 && Date.now() > deadlineMs) {
        const deepest =
          this.stack.length > this.deepest.length ? this.stack.map((c) => c.step) : this.deepest;
        return { kind: "timeout", deepest, culprit: NIL, explored };
      }
      const { list, entry } = this;
      const op = this.ops[list.op[entry] ?? NIL];
      if (op === undefined) throw new Error("search: ran past the end of the entry list");
      if (list.isCall[entry] === 1) {
        if (op.definite === (this.pass === 1) && this.tryCall(entry, op)) continue;
        this.entry = list.next[entry] ?? NIL;
      } else if (this.pass === 1) {
        this.pass = 2; // No definite candidate fits here: try the optional ones.
        this.entry = list.next[list.head] ?? NIL;
      } else if (!this.backtrack(entry)) {
        return { kind: "fail", deepest: this.deepest, culprit: this.culprit, explored };
      }
    }
    return { kind: "ok", order: this.stack.map((c) => c.step), explored };
  }

  /** Linearizes the candidate at `entry` if the model accepts it in a state not seen before. */
  private tryCall(entry: number, op: SearchOp): boolean {
    const next = step(this.state, op.operation, op.result);
    if (next === undefined) return false;
    const index = this.list.op[entry] ?? NIL;
    const n1 = (this.h1 ^ (this.zobrist[2 * index] ?? 0)) >>> 0;
    const n2 = (this.h2 ^ (this.zobrist[2 * index + 1] ?? 0)) >>> 0;
    const key = `${n1}:${n2}:${next.state.cacheKey}`;
    if (this.cache.has(key)) return false;
    // The cache only saves work: dropping it at its bound costs time, never a wrong answer.
    if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
    this.cache.add(key);
    this.stack.push({
      entry,
      before: this.state,
      step: { op: index, events: next.events, after: next.state },
      pass: this.pass,
    });
    this.state = next.state;
    this.h1 = n1;
    this.h2 = n2;
    this.list.lift(entry);
    if (op.definite) this.definiteLeft--;
    this.entry = this.list.next[this.list.head] ?? NIL;
    this.pass = 1;
    return true;
  }

  /** At a return entry whose operation was not placed: undo the last choice; false when none is left. */
  private backtrack(entry: number): boolean {
    if (this.stack.length > this.deepest.length || this.culprit === NIL) {
      this.deepest = this.stack.map((c) => c.step);
      this.culprit = this.list.op[entry] ?? NIL;
    }
    const top = this.stack.pop();
    if (top === undefined) return false;
    const index = top.step.op;
    this.state = top.before;
    this.h1 = (this.h1 ^ (this.zobrist[2 * index] ?? 0)) >>> 0;
    this.h2 = (this.h2 ^ (this.zobrist[2 * index + 1] ?? 0)) >>> 0;
    this.list.unlift(top.entry);
    if (this.ops[index]?.definite === true) this.definiteLeft++;
    this.pass = top.pass;
    this.entry = this.list.next[top.entry] ?? NIL;
    return true;
  }
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
