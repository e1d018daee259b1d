/**
 * The Raft node: term rules common to every message, dispatch to the handler of the current role,
 * logical clock, and membership changes.
 */
import type { RaftConfig } from "./config.js";
import { resolveConfig } from "./config.js";
import { message } from "./message.js";
import { RaftBase } from "./raft-base.js";
import { maybeCommit, maybeSendAppend } from "./replication.js";
import { stepCandidate, stepFollower } from "./step-follower.js";
import { stepLeader } from "./step-leader.js";
import type { ConfChange, ConfState, Message, RaftErrorReason, RaftRole } from "./types.js";
import { NONE } from "./types.js";

type StepHandler = (r: RaftBase, m: Message) => RaftErrorReason | undefined;

/** The message handler of each role: becoming a role swaps the handler, not a chain of ifs. */
const HANDLERS: Record<RaftRole, StepHandler> = {
  follower: stepFollower,
  preCandidate: stepCandidate,
  candidate: stepCandidate,
  leader: stepLeader,
};

/** A Raft node's state machine. Use it through {@link RawNode}, which adds the Ready protocol. */
export class Raft extends RaftBase {
  constructor(config: RaftConfig) {
    super(resolveConfig(config));
  }

  /** Advances logical time by one tick: followers count toward an election, leaders toward heartbeats. */
  tick(): void {
    if (this.role === "leader") this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(localMessage(this, "MsgHup"));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) this.step(localMessage(this, "MsgCheckQuorum"));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.role === "leader" && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.role !== "leader") return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(localMessage(this, "MsgBeat"));
    }
  }

  /** Processes one message; returns a reason when a local request (proposal) is refused. */
  step(m: Message): RaftErrorReason | undefined {
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return undefined;
    } else if (m.term !== 0 && m.term < this.term) {
      this.stepLowerTerm(m);
      return undefined;
    }
    switch (m.type) {
      case "MsgHup":
        this.hup(this.cfg.preVote ? "preElection" : "election");
        return undefined;
      case "MsgVote":
      case "MsgPreVote":
        this.handleVoteRequest(m);
        return undefined;
      default:
        return HANDLERS[this.role](this, m);
    }
  }

  /** Term rules for a message from a newer term; returns false when the message is to be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === "MsgVote" || m.type === "MsgPreVote") {
      const force = RaftBase.isTransfer(m);
      const inLease =
        this.cfg.checkQuorum && this.lead !== NONE && this.electionElapsed < this.cfg.electionTicks;
      if (!force && inLease) {
        // We heard from a leader within the election timeout: this candidate cannot win, and obeying
        // it would depose a healthy leader (a partitioned node rejoining).
        this.logger.info(
          `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] ignored ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${this.cfg.electionTicks - this.electionElapsed})`,
        );
        return false;
      }
    }
    // A pre-vote (and a granted pre-vote response) is about a future term: it must not move ours.
    if (m.type === "MsgPreVote" || (m.type === "MsgPreVoteResp" && !m.reject)) return true;
    this.logger.info(
      `${this.id} [term: ${this.term}] received a ${m.type} message with higher term from ${m.from} [term: ${m.term}]`,
    );
    const fromLeader = m.type === "MsgApp" || m.type === "MsgHeartbeat" || m.type === "MsgSnap";
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === "MsgHeartbeat" || m.type === "MsgApp")) {
      // A leader of an older term (say, behind a partition that healed) learns our term from this
      // response and steps down; otherwise, with pre-vote, we could never depose it.
      this.send({ type: "MsgAppResp", to: m.from });
    } else if (m.type === "MsgPreVote") {
      this.logger.info(
        `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] rejected ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
      );
      this.send({ type: "MsgPreVoteResp", to: m.from, term: this.term, reject: true });
    } else {
      this.logger.debug(
        `${this.id} [term: ${this.term}] ignored a ${m.type} message with lower term from ${m.from} [term: ${m.term}]`,
      );
    }
  }

  /** Grants at most one vote per term, and only to a candidate whose log is at least as up to date (§5.2, §5.4.1). */
  private handleVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === "MsgPreVote" && m.term > this.term);
    const respType = m.type === "MsgVote" ? "MsgVoteResp" : "MsgPreVoteResp";
    const desc = `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}]`;
    const theirs = `${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`;
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.logger.info(`${desc} cast ${theirs}`);
      // Answer in the candidate's term: a granted pre-vote must not look stale to it.
      this.send({ type: respType, to: m.from, term: m.term });
      if (m.type === "MsgVote") {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.logger.info(`${desc} rejected ${theirs}`);
      this.send({ type: respType, to: m.from, term: this.term, reject: true });
    }
  }

  /** Applies a committed membership change and returns the new membership. */
  applyConfChange(cc: ConfChange): ConfState {
    const pr = this.prs.progress.get(cc.nodeId);
    const next = this.log.lastIndex() + 1;
    switch (cc.type) {
      case "addNode":
        if (pr === undefined) this.prs.add(cc.nodeId, next, false);
        else if (pr.isLearner) {
          pr.isLearner = false;
          this.prs.refreshIds();
        }
        break;
      case "addLearner":
        // Demoting a voter is not a single-step change etcd makes; ignore it.
        if (pr === undefined) this.prs.add(cc.nodeId, next, true);
        else if (!pr.isLearner)
          this.logger.warn(`${this.id} ignoring demotion of voter ${cc.nodeId} to learner`);
        break;
      case "removeNode":
        this.prs.remove(cc.nodeId);
        break;
    }
    this.logger.info(
      `${this.id} switched to configuration voters=(${this.prs.voters.join(" ")}) learners=(${this.prs.learners.join(" ")})`,
    );
    this.afterConfChange();
    return this.prs.confState();
  }

  private afterConfChange(): void {
    const self = this.prs.progress.get(this.id);
    this.isLearner = self?.isLearner ?? false;
    if (this.role !== "leader") return;
    if (self === undefined || self.isLearner) {
      // A removed leader steps down; the rest elect a new one after an election timeout.
      this.becomeFollower(this.term, NONE);
      return;
    }
    // The quorum changed size: the commit index may move, and new members need the log.
    if (!maybeCommit(this))
      for (const id of this.prs.ids) if (id !== this.id) maybeSendAppend(this, id, false);
    if (this.leadTransferee !== NONE && !this.prs.isVoter(this.leadTransferee)) this.abortLeaderTransfer();
  }

  /**
   * Called after the application persisted entries up to `stableIndex` and applied `applied`:
   * a leader counts its own copy toward commit only now (it is durable).
   */
  onPersisted(): void {
    if (this.role !== "leader") return;
    const self = this.prs.progress.get(this.id);
    if (self?.maybeUpdate(this.log.stableIndex())) maybeCommit(this);
  }

  /** Starts an election now (used by tests and by the application to force a campaign). */
  campaignNow(): void {
    this.step(localMessage(this, "MsgHup"));
  }
}

function localMessage(r: RaftBase, type: Message["type"]): Message {
  return message({ type, to: r.id, from: r.id });
}
