/**
 * The Raft log as the core sees it: persisted entries (read through {@link Storage}) followed by the
 * unstable tail, plus the commit and applied indexes.
 */
import type { RaftLogger } from "./logger.js";
import type { Storage } from "./storage.js";
import { limitSize } from "./storage.js";
import type { Entry, Snapshot } from "./types.js";
import { Unstable } from "./unstable.js";
import { assert } from "./util.js";

/** Log of one node. Invariant: `applied <= committed <= lastIndex()`. */
export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  applied: number;

  constructor(
    readonly storage: Storage,
    private readonly logger: RaftLogger,
    /** Cap on the bytes of committed entries handed out in one Ready. */
    private readonly maxApplyBytes: number,
  ) {
    const first = storage.firstIndex();
    this.unstable = new Unstable(storage.lastIndex() + 1, logger);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** The last index known durable (not waiting in the unstable tail); 0 while a snapshot is pending. */
  stableIndex(): number {
    if (this.unstable.snapshot !== undefined) return 0;
    return this.unstable.offset - 1;
  }

  /** Term of entry `index`, or undefined when it is compacted or beyond the end. */
  term(index: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (index < dummy || index > this.lastIndex()) return undefined;
    return this.unstable.maybeTerm(index) ?? this.storage.term(index);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, "term of the last entry is unavailable");
    return t;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Whether a log ending at (lastIndex, lastTerm) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ours = this.lastTerm();
    return lastTerm > ours || (lastTerm === ours && lastIndex >= this.lastIndex());
  }

  /**
   * Appends `entries` that follow (index, logTerm) if our log matches there (the consistency check).
   * Returns the last index now known to match the leader's log, and the first index at which held
   * entries were replaced (if any); undefined on mismatch.
   */
  maybeAppend(
    index: number,
    logTerm: number,
    committed: number,
    entries: readonly Entry[],
  ): { lastNew: number; replacedFrom: number | undefined } | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    let replacedFrom: number | undefined;
    if (conflict !== 0) {
      assert(conflict > this.committed, `entry ${conflict} conflicts with committed entry ${this.committed}`);
      if (conflict <= this.lastIndex()) replacedFrom = conflict;
      this.append(entries.slice(conflict - index - 1));
    }
    this.commitTo(Math.min(committed, lastNew));
    return { lastNew, replacedFrom };
  }

  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    assert(
      first.index - 1 >= this.committed,
      `append after ${first.index - 1} is below commit ${this.committed}`,
    );
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** The index of the first entry that is new or differs from ours, 0 if all are present. */
  private findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) {
        if (e.index <= this.lastIndex()) {
          this.logger.info(
            `found conflict at index ${e.index} [existing term: ${this.term(e.index)}, conflicting term: ${e.term}]`,
          );
        }
        return e.index;
      }
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or whose term is unknown): where a leader with
   * `term` at `index` can resume probing. This skips a whole term per round trip (fast backtracking).
   */
  findConflictByTerm(index: number, term: number): number {
    for (let i = index; i > 0; i--) {
      const t = this.term(i);
      if (t === undefined || t <= term) return i;
    }
    return 0;
  }

  /** Entries from `lo` to the end, at most `maxBytes`; "compacted" when `lo` is gone. */
  entriesFrom(lo: number, maxBytes: number): Entry[] | "compacted" {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi) at most `maxBytes`, from storage then the unstable tail. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] | "compacted" {
    if (lo < this.firstIndex()) return "compacted";
    assert(hi <= this.lastIndex() + 1, `slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    if (lo >= hi) return [];
    const split = this.unstable.offset;
    let out: Entry[] = [];
    if (lo < split) {
      out = this.storage.entries(lo, Math.min(hi, split), maxBytes);
      // Storage stopped early because of the size limit: do not add unstable entries after a gap.
      if (out.length < Math.min(hi, split) - lo) return out;
    }
    if (hi > split) {
      const tail = this.unstable.slice(Math.max(lo, split), hi);
      out = out.length === 0 ? tail : out.concat(tail);
    }
    return limitSize(out, maxBytes);
  }

  /** Whether committed, durable, not yet applied entries exist. */
  hasNextCommittedEntries(): boolean {
    return Math.min(this.committed, this.stableIndex()) > Math.max(this.applied, this.firstIndex() - 1);
  }

  /**
   * Committed entries to apply next. Bounded by the durable index: an entry is applied only once it
   * is persisted locally, even when a quorum of others already holds it (etcd #14370).
   */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const lo = Math.max(this.applied + 1, this.firstIndex());
    const hi = Math.min(this.committed, this.stableIndex()) + 1;
    const entries = this.slice(lo, hi, this.maxApplyBytes);
    assert(entries !== "compacted", `committed entries from ${lo} are compacted but not applied`);
    return entries;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(
      index <= this.lastIndex(),
      `commit ${index} is out of range [last index ${this.lastIndex()}]; was the raft log corrupted, truncated, or lost?`,
    );
    this.committed = index;
  }

  /** Commits `index` if it is from the current term: earlier terms commit only indirectly (§5.4.2). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(index <= this.committed && index >= this.applied, `applied ${index} out of range`);
    this.applied = index;
  }

  /** Replaces the log with a snapshot (kept unstable until the application persists it). */
  restore(snap: Snapshot): void {
    this.logger.info(
      `log starts to restore snapshot [index: ${snap.metadata.index}, term: ${snap.metadata.term}]`,
    );
    this.committed = snap.metadata.index;
    this.unstable.restore(snap);
  }
}
