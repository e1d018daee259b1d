/**
 * The read side of the log that the application has persisted, and an in-memory implementation.
 * The core only reads from storage; the application writes to it while handling a Ready.
 */
import type { ConfState, Entry, HardState, Snapshot } from "./types.js";
import { NONE } from "./types.js";
import { assert } from "./util.js";

/**
 * What the core reads of the persisted log. Index i is available when
 * `firstIndex() <= i <= lastIndex()`; the term of `firstIndex() - 1` (the last compacted entry, or the
 * snapshot's) is always available.
 */
export interface Storage {
  /** The persisted hard state and the membership of the latest snapshot. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at most `maxBytes` (but always at least one). Callers check the bounds. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry `index`, for `firstIndex() - 1 <= index <= lastIndex()`. */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /** The most recent snapshot. */
  snapshot(): Snapshot;
}

/** The empty membership. */
export const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [] };

const EMPTY_SNAPSHOT: Snapshot = {
  data: new Uint8Array(0),
  metadata: { index: 0, term: 0, confState: EMPTY_CONF_STATE },
};

/** Bytes an entry occupies in size limits: its payload plus a fixed header estimate. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 16;
}

/** Entries from the start of `entries`, as many as fit in `maxBytes`, but at least one. */
export function limitSize(entries: Entry[], maxBytes: number): Entry[] {
  if (entries.length <= 1) return entries;
  let size = entrySize(entries[0]!);
  let n = 1;
  for (; n < entries.length; n++) {
    size += entrySize(entries[n]!);
    if (size > maxBytes) break;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}

/**
 * A {@link Storage} held in memory: what the simulator and tests treat as "the disk". `ents[0]` is a
 * sentinel carrying the index and term of the last compacted entry.
 */
export class MemoryStorage implements Storage {
  private hard: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap: Snapshot;
  private ents: Entry[];

  /**
   * An empty log, or one that starts after `from`: the snapshot a restarted member recovered, or
   * a new cluster's initial membership at index 0 (every founding member starts from the same one).
   */
  constructor(from: Snapshot = EMPTY_SNAPSHOT) {
    this.snap = from;
    const { index, term } = from.metadata;
    this.ents = [{ term, index, type: "normal", data: new Uint8Array(0) }];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hard, confState: this.snap.metadata.confState };
  }

  /** The persisted hard state. */
  hardState(): HardState {
    return this.hard;
  }

  /** Persists the hard state. */
  setHardState(hs: HardState): void {
    this.hard = hs;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.ents[0]!.index;
    assert(lo > offset && hi <= this.lastIndex() + 1, `entries [${lo}, ${hi}) out of storage bounds`);
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(index: number): number {
    const offset = this.ents[0]!.index;
    const e = this.ents[index - offset];
    assert(index >= offset && e !== undefined, `term(${index}) out of storage bounds`);
    return e.term;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with a snapshot received from the leader. Older snapshots are refused. */
  applySnapshot(snap: Snapshot): boolean {
    if (snap.metadata.index <= this.snap.metadata.index) return false;
    this.snap = snap;
    this.ents = [
      { term: snap.metadata.term, index: snap.metadata.index, type: "normal", data: new Uint8Array(0) },
    ];
    return true;
  }

  /**
   * Records a snapshot of the applied state at `index` (which must be stored). Does not drop entries:
   * call {@link compact} for that. Returns false if a newer snapshot already exists.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): boolean {
    if (index <= this.snap.metadata.index) return false;
    assert(index <= this.lastIndex(), `snapshot index ${index} beyond last index ${this.lastIndex()}`);
    this.snap = { data, metadata: { index, term: this.term(index), confState } };
    return true;
  }

  /** Drops entries up to and including `index`, keeping its term as the sentinel. */
  compact(index: number): boolean {
    const offset = this.ents[0]!.index;
    if (index <= offset) return false;
    assert(index <= this.lastIndex(), `compact ${index} beyond last index ${this.lastIndex()}`);
    const sentinel = this.ents[index - offset]!;
    this.ents = [{ ...sentinel, data: new Uint8Array(0) }, ...this.ents.slice(index - offset + 1)];
    return true;
  }

  /** Persists entries; an entry at index i replaces every stored entry at index >= i. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const offset = this.ents[0]!.index;
    // Entries already covered by the snapshot are committed and identical; skip them.
    const skip = Math.max(0, offset + 1 - first.index);
    if (skip >= entries.length) return;
    const start = first.index + skip;
    assert(start <= this.lastIndex() + 1, `gap in log: appending ${start} after ${this.lastIndex()}`);
    this.ents.length = start - offset;
    for (let i = skip; i < entries.length; i++) this.ents.push(entries[i]!);
  }
}
