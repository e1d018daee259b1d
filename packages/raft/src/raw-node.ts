/**
 * The application's handle on a Raft node: a synchronous API and the Ready/advance protocol.
 */
import { encodeConfChange } from "./conf-change.js";
import type { RaftConfig } from "./config.js";
import { message } from "./message.js";
import type { ProgressState } from "./progress.js";
import { Raft } from "./raft.js";
import { flushBroadcast } from "./replication.js";
import type {
  ConfChange,
  ConfState,
  HardState,
  Message,
  NodeId,
  RaftErrorReason,
  Ready,
  SoftState,
} from "./types.js";
import { assert, EMPTY } from "./util.js";

/** A member's replication progress as seen by the leader. */
export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
}

/** A snapshot of a node's state for observability. `progress` is filled on the leader only. */
export interface Status {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly lastIndex: number;
  readonly leadTransferee: NodeId;
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
  readonly confState: ConfState;
}

const LOCAL_TYPES = new Set<Message["type"]>([
  "MsgHup",
  "MsgBeat",
  "MsgCheckQuorum",
  "MsgUnreachable",
  "MsgSnapStatus",
]);
const RESPONSE_TYPES = new Set<Message["type"]>([
  "MsgAppResp",
  "MsgVoteResp",
  "MsgPreVoteResp",
  "MsgHeartbeatResp",
  "MsgReadIndexResp",
]);

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * A Raft node driven synchronously. Typical loop: feed `tick()` and `step()`; when `hasReady()`, take
 * `ready()`, carry out its contract (see {@link Ready}) and call `advance(ready)`. No call other than
 * `advance` is allowed while a Ready is outstanding.
 */
export class RawNode {
  /** The state machine; exposed read-only for tests and status, never to be mutated from outside. */
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Ready | undefined;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoft = this.raft.softState();
    this.prevHard = this.raft.hardState();
  }

  private idle(): void {
    assert(this.outstanding === undefined, "call advance() before driving the node again");
  }

  /** Advances logical time by one tick. */
  tick(): void {
    this.idle();
    this.raft.tick();
  }

  /** Starts an election now (pre-vote first when enabled). */
  campaign(): void {
    this.idle();
    this.raft.campaignNow();
  }

  /** Proposes a command to be appended to the log; on a follower it is forwarded to the leader. */
  propose(data: Uint8Array): RaftErrorReason | undefined {
    return this.proposeEntry("normal", data);
  }

  /** Proposes a membership change; refused (turned into a no-op) while another one is not applied. */
  proposeConfChange(cc: ConfChange): RaftErrorReason | undefined {
    return this.proposeEntry("confChange", encodeConfChange(cc));
  }

  private proposeEntry(type: "normal" | "confChange", data: Uint8Array): RaftErrorReason | undefined {
    this.idle();
    const r = this.raft;
    return r.step(
      message({ type: "MsgProp", to: r.id, from: r.id, entries: [{ term: 0, index: 0, type, data }] }),
    );
  }

  /** Applies a committed conf change entry (call while applying it) and returns the new membership. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Delivers a message from a peer. Local-only types and responses from non-members are refused. */
  step(m: Message): RaftErrorReason | undefined {
    this.idle();
    if (LOCAL_TYPES.has(m.type)) return "stepLocalMessage";
    if (RESPONSE_TYPES.has(m.type) && !this.raft.prs.progress.has(m.from)) return "stepPeerNotFound";
    return this.raft.step(m);
  }

  /**
   * Requests a linearizable read point. `ctx` must be unique per request; the answer arrives as a
   * {@link ReadState} with the same context in a later Ready (or never, if leadership changes: retry).
   */
  readIndex(ctx: Uint8Array): void {
    this.localStep({ type: "MsgReadIndex", context: ctx });
  }

  /** Asks the leader to hand leadership to `transferee` (forwarded when called on a follower). */
  transferLeader(transferee: NodeId): void {
    this.localStep({ type: "MsgTransferLeader", from: transferee });
  }

  /** Tells the leader that the transport could not reach `id`. */
  reportUnreachable(id: NodeId): void {
    this.localStep({ type: "MsgUnreachable", from: id });
  }

  /** Tells the leader whether the snapshot sent to `id` was delivered. */
  reportSnapshot(id: NodeId, delivered: boolean): void {
    this.localStep({ type: "MsgSnapStatus", from: id, reject: !delivered });
  }

  private localStep(m: Partial<Message> & { type: Message["type"] }): void {
    this.idle();
    const r = this.raft;
    r.step(message({ to: r.id, from: 0n, context: EMPTY, ...m }));
  }

  /** Whether there is anything for the application to do. */
  hasReady(): boolean {
    const r = this.raft;
    if (this.outstanding !== undefined) return false;
    const soft = r.softState();
    return (
      r.broadcastPending ||
      soft.lead !== this.prevSoft.lead ||
      soft.role !== this.prevSoft.role ||
      !hardStateEqual(r.hardState(), this.prevHard) ||
      r.log.unstable.snapshot !== undefined ||
      r.log.unstable.entries.length > 0 ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.log.hasNextCommittedEntries()
    );
  }

  /** Takes the next batch of work. The caller must carry it out and then call {@link advance}. */
  ready(): Ready {
    this.idle();
    const r = this.raft;
    flushBroadcast(r);
    const soft = r.softState();
    const hard = r.hardState();
    const entries = r.log.unstable.entries.slice();
    const snapshot = r.log.unstable.snapshot;
    const softChanged = soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role;
    const hardChanged = !hardStateEqual(hard, this.prevHard);
    const rd: Ready = {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardChanged ? { hardState: hard } : {}),
      readStates: r.readStates,
      entries,
      ...(snapshot === undefined ? {} : { snapshot }),
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      mustSync: entries.length > 0 || hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote,
    };
    r.msgs = [];
    r.readStates = [];
    this.outstanding = rd;
    return rd;
  }

  /** Acknowledges that the Ready was carried out: its entries and snapshot are durable and applied. */
  advance(rd: Ready): void {
    assert(this.outstanding === rd, "advance() must be given the Ready returned by the last ready()");
    this.outstanding = undefined;
    const r = this.raft;
    if (rd.softState !== undefined) this.prevSoft = rd.softState;
    if (rd.hardState !== undefined) this.prevHard = rd.hardState;
    if (rd.snapshot !== undefined) {
      r.log.unstable.stableSnapTo(rd.snapshot.metadata.index);
      r.log.appliedTo(rd.snapshot.metadata.index);
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) r.log.unstable.stableTo(last.index, last.term);
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied !== undefined) {
      r.log.appliedTo(lastApplied.index);
      r.reduceUncommittedBytes(rd.committedEntries);
    }
    r.onPersisted();
  }

  /** The node's current state. */
  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.role === "leader") {
      for (const [id, pr] of r.prs.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner });
      }
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      leadTransferee: r.leadTransferee,
      progress,
      confState: r.prs.confState(),
    };
  }
}
