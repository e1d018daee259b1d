/**
 * Membership and quorum arithmetic: which members vote, each member's {@link Progress}, election
 * tallies and the commit index a majority holds.
 */
import { Progress } from "./progress.js";
import type { ConfState, NodeId } from "./types.js";

/** Outcome of counting votes. */
export type VoteResult = "won" | "lost" | "pending";

/** Tracks voters, learners and their progress. Ids are kept sorted so iteration order is stable. */
export class ProgressTracker {
  readonly progress = new Map<NodeId, Progress>();
  /** Voter ids, sorted. */
  voters: NodeId[] = [];
  /** Learner ids, sorted. */
  learners: NodeId[] = [];
  /** All member ids, sorted. */
  ids: NodeId[] = [];
  private readonly votes = new Map<NodeId, boolean>();

  constructor(private readonly maxInflight: number) {}

  /** Replaces the membership with `cs`, giving every member fresh progress starting at `next`. */
  reset(cs: ConfState, next: number): void {
    this.progress.clear();
    for (const id of cs.voters) this.progress.set(id, new Progress(next, this.maxInflight, false));
    for (const id of cs.learners) this.progress.set(id, new Progress(next, this.maxInflight, true));
    this.refreshIds();
  }

  /** Adds a member (a newly added member counts as recently active so check-quorum spares it). */
  add(id: NodeId, next: number, isLearner: boolean): Progress {
    const pr = new Progress(next, this.maxInflight, isLearner);
    pr.recentActive = true;
    this.progress.set(id, pr);
    this.refreshIds();
    return pr;
  }

  remove(id: NodeId): void {
    this.progress.delete(id);
    this.refreshIds();
  }

  /** Re-derives the sorted id lists after a change of membership or of a member's learner flag. */
  refreshIds(): void {
    const ids = [...this.progress.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.ids = ids;
    this.voters = ids.filter((id) => !this.progress.get(id)!.isLearner);
    this.learners = ids.filter((id) => this.progress.get(id)!.isLearner);
  }

  confState(): ConfState {
    return { voters: this.voters.slice(), learners: this.learners.slice() };
  }

  isVoter(id: NodeId): boolean {
    const pr = this.progress.get(id);
    return pr !== undefined && !pr.isLearner;
  }

  /** A majority of the voters. */
  quorum(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  /** The largest index that a majority of voters has acknowledged. */
  committed(): number {
    const matches = this.voters.map((id) => this.progress.get(id)!.match);
    if (matches.length === 0) return 0;
    matches.sort((a, b) => b - a);
    return matches[this.quorum() - 1]!;
  }

  /** Whether a majority of voters was heard from recently (`self` always counts). */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.voters) if (id === self || this.progress.get(id)!.recentActive) active++;
    return active >= this.quorum();
  }

  /** Whether `acks` (a set of voters and possibly learners) contains a majority of the voters. */
  hasQuorum(acks: ReadonlySet<NodeId>): boolean {
    let n = 0;
    for (const id of this.voters) if (acks.has(id)) n++;
    return n >= this.quorum();
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote (the first one from each voter wins). */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const q = this.quorum();
    const result = granted >= q ? "won" : rejected > this.voters.length - q ? "lost" : "pending";
    return { granted, rejected, result };
  }
}
