/**
 * The state of one Raft node and the transitions every role shares: term and vote bookkeeping, role
 * changes, elections, sending, and restoring snapshots. Role-specific message handling lives in
 * step-leader.ts and step-follower.ts; the dispatcher in raft.ts picks the handler for the role.
 */
import type { ResolvedConfig } from "./config.js";
import { RaftLog } from "./log.js";
import type { RaftLogger } from "./logger.js";
import { message } from "./message.js";
import { ReadOnly } from "./read-only.js";
import { ProgressTracker } from "./tracker.js";
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  MessageType,
  NodeId,
  RaftRole,
  ReadState,
  Snapshot,
  SoftState,
} from "./types.js";
import { NONE } from "./types.js";
import { assert, bytesEqual, EMPTY } from "./util.js";

/** Context of a MsgVote sent on leader transfer: voters grant it even while in a leader lease. */
export const CAMPAIGN_TRANSFER = new TextEncoder().encode("CampaignTransfer");

/** Which election a node runs. */
export type CampaignType = "preElection" | "election" | "transfer";

/** Fields a caller of {@link RaftBase.send} sets; the rest default to zero/empty. */
export type OutgoingMessage = Partial<Message> & { readonly type: MessageType; readonly to: NodeId };

const ROLE_NAMES: Record<RaftRole, string> = {
  follower: "follower",
  preCandidate: "pre-candidate",
  candidate: "candidate",
  leader: "leader",
};

/** Shared state and transitions of a Raft node. */
export class RaftBase {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: RaftRole = "follower";
  /** Whether this node is a learner in its current configuration. */
  isLearner = false;
  readonly log: RaftLog;
  readonly prs: ProgressTracker;
  /** ReadIndex requests waiting for their heartbeat round; replaced on every role change. */
  readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  readStates: ReadState[] = [];
  /** Outgoing messages, drained by each Ready. */
  msgs: Message[] = [];
  /** The target of an ongoing leadership transfer, or NONE. */
  leadTransferee: NodeId = NONE;
  /** A new conf change may be proposed only once the log is applied past this index. */
  pendingConfIndex = 0;
  /** A leader broadcast is due when the next Ready is assembled (see scheduleBroadcast). */
  broadcastPending = false;
  /** Bytes of the leader's entries that are not yet committed (bounded by maxUncommittedBytes). */
  uncommittedBytes = 0;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  readonly cfg: ResolvedConfig;
  readonly logger: RaftLogger;

  constructor(cfg: ResolvedConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.logger = cfg.logger;
    this.log = new RaftLog(cfg.storage, cfg.logger, cfg.maxApplyBytes);
    this.prs = new ProgressTracker(cfg.maxInflightMsgs);
    const { hardState, confState } = cfg.storage.initialState();
    this.prs.reset(confState, this.log.lastIndex() + 1);
    this.isLearner = this.prs.progress.get(this.id)?.isLearner ?? false;
    if (hardState.term !== 0 || hardState.commit !== 0) this.loadHardState(hardState);
    if (cfg.applied > 0) this.log.appliedTo(cfg.applied);
    this.becomeFollower(this.term, NONE);
    const peers = this.prs.ids.join(",");
    this.logger.info(
      `newRaft ${this.id} [peers: [${peers}], term: ${this.term}, commit: ${this.log.committed}, applied: ${this.log.applied}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}]`,
    );
  }

  private loadHardState(hs: HardState): void {
    const last = this.log.lastIndex();
    assert(
      hs.commit >= this.log.committed && hs.commit <= last,
      `${this.id} state.commit ${hs.commit} is out of range [${this.log.committed}, ${last}]`,
    );
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** Queues a message. Term is attached except on forwarded proposals and reads (they act as local). */
  send(m: OutgoingMessage): void {
    const needsTerm = m.type !== "MsgProp" && m.type !== "MsgReadIndex";
    const isVoteish =
      m.type === "MsgVote" ||
      m.type === "MsgVoteResp" ||
      m.type === "MsgPreVote" ||
      m.type === "MsgPreVoteResp";
    const isRequest = m.type === "MsgVote" || m.type === "MsgPreVote";
    if (isRequest) assert(m.term !== undefined && m.term !== 0, `term should be set when sending ${m.type}`);
    const msg = message({
      ...m,
      // Forwarded requests keep their origin (a transfer's transferee); everything else is from us.
      from: m.from === undefined || m.from === NONE ? this.id : m.from,
      term: needsTerm && !isVoteish ? this.term : (m.term ?? 0),
    });
    this.msgs.push(msg);
  }

  /** Whether this node may campaign: a voter in its configuration with no snapshot being installed. */
  promotable(): boolean {
    const pr = this.prs.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.log.hasPendingSnapshot();
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.cfg.electionTicks + this.cfg.rng.int(this.cfg.electionTicks);
  }

  /** Resets volatile state for a new term (or a new role in the same term). */
  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.prs.resetVotes();
    const next = this.log.lastIndex() + 1;
    for (const [id, pr] of this.prs.progress) {
      pr.match = 0;
      pr.next = next;
      pr.state = "probe";
      pr.probeSent = false;
      pr.pendingSnapshot = 0;
      pr.inflights.reset();
      // The leader's own copy counts toward commit only once it is durable.
      if (id === this.id) pr.match = this.log.stableIndex();
    }
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.broadcastPending = false;
    this.pendingReadIndexMessages = [];
    // Pending reads belong to the old term; their callers retry after a leader change.
    this.readOnly = new ReadOnly();
  }

  private logRole(): void {
    this.logger.info(`${this.id} became ${ROLE_NAMES[this.role]} at term ${this.term}`);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = "follower";
    this.logRole();
  }

  becomePreCandidate(): void {
    assert(this.role !== "leader", "invalid transition [leader -> pre-candidate]");
    // A pre-candidate changes neither term nor vote, so a failed pre-vote disturbs nobody.
    this.prs.resetVotes();
    this.lead = NONE;
    this.role = "preCandidate";
    this.logRole();
  }

  becomeCandidate(): void {
    assert(this.role !== "leader", "invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
    this.logRole();
  }

  becomeLeader(): void {
    assert(this.role !== "follower", "invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.role = "leader";
    this.prs.progress.get(this.id)?.becomeReplicate();
    // Conf changes in the uncommitted tail may still be pending; refuse new ones until it is applied.
    this.pendingConfIndex = this.log.lastIndex();
    // An empty entry of the new term: committing it commits every earlier entry (§5.4.2) and lets
    // ReadIndex know the leader's commit index is current.
    const ok = this.appendEntries([{ term: 0, index: 0, type: "normal", data: EMPTY }]);
    assert(ok, "empty entry was dropped");
    this.logRole();
  }

  /** Starts an election unless this node is leader, cannot vote, or has membership changes to apply. */
  hup(type: CampaignType): void {
    if (this.role === "leader") {
      this.logger.debug(`${this.id} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logger.warn(
        `${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`,
      );
      return;
    }
    this.logger.info(`${this.id} is starting a new election at term ${this.term}`);
    this.campaign(type);
  }

  /** Starts an election (or pre-election) if this node may. */
  campaign(type: CampaignType): void {
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable; campaign() should have been called`);
      return;
    }
    let term: number;
    let voteType: MessageType;
    if (type === "preElection") {
      this.becomePreCandidate();
      voteType = "MsgPreVote";
      // A pre-vote asks about the next term without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = "MsgVote";
      term = this.term;
    }
    if (this.poll(this.id, voteType === "MsgVote" ? "MsgVoteResp" : "MsgPreVoteResp", true) === "won") {
      // A single voter wins at once.
      if (type === "preElection") this.campaign("election");
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.prs.voters) {
      if (id === this.id) continue;
      this.logger.info(
        `${this.id} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${voteType} request to ${id} at term ${this.term}`,
      );
      const context = type === "transfer" ? { context: CAMPAIGN_TRANSFER } : {};
      this.send({ type: voteType, to: id, term, index: lastIndex, logTerm: lastTerm, ...context });
    }
  }

  /** Records a vote and returns the tally's outcome. */
  poll(id: NodeId, type: MessageType, granted: boolean): "won" | "lost" | "pending" {
    const verb = granted ? `${type} from` : `${type} rejection from`;
    this.logger.info(`${this.id} received ${verb} ${id} at term ${this.term}`);
    this.prs.recordVote(id, granted);
    return this.prs.tallyVotes().result;
  }

  /** Whether this leader has committed an entry of its own term (so its commit index is current). */
  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /**
   * Assigns term and index to new entries and appends them to the leader's log. Returns false (and
   * appends nothing) when the uncommitted tail would exceed its byte limit.
   */
  appendEntries(entries: readonly Entry[]): boolean {
    const last = this.log.lastIndex();
    let bytes = 0;
    for (const e of entries) bytes += e.data.byteLength;
    // An empty tail always accepts one proposal, however large, so progress is possible.
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.cfg.maxUncommittedBytes) {
      this.logger.debug(
        `${this.id} appending new entries would exceed the uncommitted entry size limit; dropping`,
      );
      return false;
    }
    this.uncommittedBytes += bytes;
    const stamped = entries.map((e, i) => ({
      term: this.term,
      index: last + 1 + i,
      type: e.type,
      data: e.data,
    }));
    this.log.append(stamped);
    return true;
  }

  /** Releases uncommitted-bytes budget for entries that were applied. */
  reduceUncommittedBytes(applied: readonly Entry[]): void {
    if (this.role !== "leader") return;
    let bytes = 0;
    for (const e of applied) bytes += e.data.byteLength;
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  /** Answers a confirmed read: locally when the request was ours, otherwise to the follower that asked. */
  answerReadIndex(request: Message, index: number): void {
    const ctx = request.context ?? EMPTY;
    if (request.from === NONE || request.from === this.id) {
      this.readStates.push({ index, requestCtx: ctx });
      return;
    }
    this.send({ type: "MsgReadIndexResp", to: request.from, index, context: ctx });
  }

  /**
   * Installs a snapshot from the leader if it is newer than our commit. Returns false when it is
   * stale or when our log already contains its last entry (then only the commit index moves).
   */
  restore(snap: Snapshot): boolean {
    const { index, term, confState } = snap.metadata;
    if (index <= this.log.committed) return false;
    if (this.role !== "follower") {
      // Only a leader of a newer term sends snapshots, and its message made us a follower first.
      this.logger.warn(
        `${this.id} attempted to restore snapshot as ${ROLE_NAMES[this.role]}; should never happen`,
      );
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const member = confState.voters.includes(this.id) || confState.learners.includes(this.id);
    if (!member) {
      this.logger.warn(`${this.id} attempted to restore snapshot but it is not in the ConfState`);
      return false;
    }
    if (this.log.matchTerm(index, term)) {
      this.logger.info(
        `${this.id} [commit: ${this.log.committed}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`,
      );
      this.log.commitTo(index);
      return false;
    }
    this.dropStaleAcks(this.log.committed + 1);
    this.log.restore(snap);
    this.setConfState(confState);
    this.logger.info(
      `${this.id} [commit: ${this.log.committed}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}] restored snapshot [index: ${index}, term: ${term}]`,
    );
    return true;
  }

  /** Replaces the membership wholesale (from a snapshot). */
  private setConfState(cs: ConfState): void {
    this.prs.reset(cs, this.log.lastIndex() + 1);
    const self = this.prs.progress.get(this.id);
    this.isLearner = self?.isLearner ?? false;
    if (self !== undefined) self.match = this.log.stableIndex();
  }

  /**
   * Withdraws acknowledgements not yet sent for entries at or after `index`, which were just replaced
   * (by a newer leader's entries or a snapshot) before they were persisted: sending them would claim
   * entries this node will never hold durably. Losing them is like losing the messages.
   */
  dropStaleAcks(index: number): void {
    const before = this.msgs.length;
    this.msgs = this.msgs.filter((m) => m.type !== "MsgAppResp" || m.reject || m.index < index);
    const dropped = before - this.msgs.length;
    if (dropped > 0)
      this.logger.debug(
        `${this.id} withdrew ${dropped} acknowledgement(s) of replaced entries from ${index}`,
      );
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  /** Whether committed entries not yet applied contain a conf change (then campaigning must wait). */
  hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    const entries = this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER);
    return entries === "compacted" || entries.some((e) => e.type === "confChange");
  }

  /** Whether a vote request carries the leader-transfer marker (voters then ignore their lease). */
  static isTransfer(m: Message): boolean {
    return bytesEqual(m.context, CAMPAIGN_TRANSFER);
  }
}
