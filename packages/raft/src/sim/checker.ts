/**
 * The simulator's safety oracle. It watches every member and checks, after every event:
 * election safety, log matching, leader completeness, state machine safety, and that every
 * acknowledged read observed every write committed before the read started.
 */
import type { MemoryStorage } from "../storage.js";
import type { Entry, Message, NodeId } from "../types.js";
import { entryKey } from "./app.js";

/** A broken safety property: the simulator stops and prints the seed. */
export class SafetyViolation extends Error {
  override readonly name = "SafetyViolation";
}

function violation(message: string): never {
  throw new SafetyViolation(message);
}

/** Global knowledge accumulated across the run, used to judge each member's local view. */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** "index/term" -> "prevTerm|entry key" of every entry ever persisted by anyone. */
  private readonly persisted = new Map<string, string>();
  /** index -> entry key of every entry ever applied by anyone. */
  private readonly applied = new Map<number, string>();
  /** index -> state machine hash after applying it. */
  private readonly hashes = new Map<number, number>();
  /** The highest commit index any member ever reached, its entry's term, and the term it was learned in. */
  maxCommit = 0;
  private maxCommitEntryTerm = 0;
  private maxCommitKnownTerm = 0;
  readonly counts = { leaders: 0, persisted: 0, applied: 0, reads: 0 };

  /** §5.2 Election Safety: at most one leader per term. */
  observeLeader(id: NodeId, term: number): void {
    const existing = this.leaderOfTerm.get(term);
    if (existing === undefined) {
      this.leaderOfTerm.set(term, id);
      this.counts.leaders++;
    } else if (existing !== id) {
      violation(`election safety: ${existing} and ${id} are both leaders of term ${term}`);
    }
  }

  /**
   * §5.3 Log Matching, checked entry by entry: one (index, term) always has the same content and the
   * same previous term. By induction, two logs that share an (index, term) are identical up to it.
   */
  observePersisted(id: NodeId, entry: Entry, prevTerm: number): void {
    const key = `${entry.index}/${entry.term}`;
    const value = `${prevTerm}|${entryKey(entry)}`;
    const existing = this.persisted.get(key);
    if (existing === undefined) {
      this.persisted.set(key, value);
      this.counts.persisted++;
    } else if (existing !== value) {
      violation(`log matching: ${id} persisted a different entry at index ${entry.index} term ${entry.term}`);
    }
  }

  /** §5.4.3 State Machine Safety: no two members apply different entries at one index. */
  observeApplied(id: NodeId, entry: Entry, hashAfter: number): void {
    const key = entryKey(entry);
    const existing = this.applied.get(entry.index);
    if (existing === undefined) {
      this.applied.set(entry.index, key);
      this.hashes.set(entry.index, hashAfter);
      this.counts.applied++;
    } else if (existing !== key || this.hashes.get(entry.index) !== hashAfter) {
      violation(`state machine safety: ${id} applied a different entry (or history) at index ${entry.index}`);
    }
  }

  /**
   * Followers acknowledge only what is durable: an accepted append is acknowledged only up to the
   * persisted log, and a vote is granted only once it is persisted.
   */
  checkDurableBeforeSend(m: Message, storage: MemoryStorage): void {
    if (m.type === "MsgAppResp" && !m.reject && m.index > storage.lastIndex()) {
      violation(
        `durability: ${m.from} acknowledged index ${m.index} but persisted only up to ${storage.lastIndex()}`,
      );
    }
    if (m.type === "MsgVoteResp" && !m.reject) {
      const hs = storage.hardState();
      // A later term persisted in the same Ready also forbids voting again at m.term.
      if (hs.term < m.term || (hs.term === m.term && hs.vote !== m.to)) {
        violation(`durability: ${m.from} granted its vote to ${m.to} at term ${m.term} before persisting it`);
      }
    }
  }

  /** A restored snapshot must equal the state everyone else had at that index. */
  observeSnapshotRestored(id: NodeId, index: number, hash: number): void {
    const expected = this.hashes.get(index);
    if (expected !== undefined && expected !== hash) {
      violation(`state machine safety: ${id} restored a snapshot at ${index} with a different state`);
    }
  }

  /** Records a member's commit index (and the term of that entry in its log). */
  observeCommit(commit: number, entryTerm: number | undefined, nodeTerm: number): void {
    if (commit <= this.maxCommit || entryTerm === undefined) return;
    this.maxCommit = commit;
    this.maxCommitEntryTerm = entryTerm;
    this.maxCommitKnownTerm = nodeTerm;
  }

  /**
   * §5.4 Leader Completeness: a leader of a term after the one in which an entry was known committed
   * holds that entry. `termAt` is the leader's log; `snapshotIndex` is where its log starts.
   */
  checkLeaderComplete(
    id: NodeId,
    term: number,
    termAt: (i: number) => number | undefined,
    snapshotIndex: number,
  ): void {
    if (term <= this.maxCommitKnownTerm || this.maxCommit <= snapshotIndex) return;
    const t = termAt(this.maxCommit);
    if (t !== this.maxCommitEntryTerm) {
      violation(
        `leader completeness: leader ${id} of term ${term} lacks committed entry ${this.maxCommit} (term ${this.maxCommitEntryTerm}, has ${t})`,
      );
    }
  }

  /** Linearizable reads: a read served at `observedIndex` saw every write committed before it began. */
  checkRead(id: NodeId, readId: number, commitAtStart: number, observedIndex: number): void {
    this.counts.reads++;
    if (observedIndex < commitAtStart) {
      violation(
        `stale read: read ${readId} served by ${id} observed index ${observedIndex}, but ${commitAtStart} was committed before it started`,
      );
    }
  }
}
