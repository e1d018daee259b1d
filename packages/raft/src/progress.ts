/**
 * The leader's view of one member's log: how far it matches, what to send next, and in which
 * replication state (probe, replicate, snapshot) the leader talks to it.
 */
import { Inflights } from "./inflights.js";

/**
 * - `probe`: the match point is unknown; send one MsgApp per heartbeat interval and back off on rejection.
 * - `replicate`: the follower is caught up; pipeline MsgApps optimistically within the inflights window.
 * - `snapshot`: the follower needs a snapshot; pause appends until it is applied or reported failed.
 */
export type ProgressState = "probe" | "replicate" | "snapshot";

/** Per-member replication progress, kept by the leader (and reset on every role change). */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = "probe";
  /** In `snapshot` state: the index of the snapshot sent. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In `probe` state: a MsgApp is outstanding, wait for a response or a heartbeat response. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflight: number,
    public isLearner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it: the follower has it (or will ask again).
    const after =
      this.state === "snapshot" ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.resetState("probe");
    this.next = after;
  }

  becomeReplicate(): void {
    this.resetState("replicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState("snapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records an acknowledgement up to `index`; returns whether `match` moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** In `replicate` state, entries up to `index` are sent: move `next` past them without waiting. */
  optimisticUpdate(index: number): void {
    this.next = index + 1;
  }

  /**
   * Handles a rejection of the MsgApp whose previous index was `rejected`; `hint` is where the
   * follower's log may match. Returns false for stale rejections.
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader must hold back appends to this member for now. */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  /** A one-line description for status output. */
  toString(): string {
    let s = `StateReplicate match=${this.match} next=${this.next}`;
    if (this.state === "probe") s = `StateProbe match=${this.match} next=${this.next}`;
    if (this.state === "snapshot")
      s = `StateSnapshot match=${this.match} next=${this.next} paused pendingSnap=${this.pendingSnapshot}`;
    if (this.isLearner) s += " learner";
    if (this.state === "probe" && this.probeSent) s += " paused";
    if (this.inflights.full()) s += " inflight=full";
    else if (this.inflights.count > 0) s += ` inflight=${this.inflights.count}`;
    return s;
  }
}
