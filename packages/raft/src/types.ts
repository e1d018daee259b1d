/**
 * Plain-data types of the Raft core: entries, messages, snapshots and the Ready batch.
 * Every value here is structured-clone friendly (no classes, no functions) so the server can later
 * put it on the wire with any encoding.
 */

/**
 * A member id. `bigint` because Keyway's member ids are etcd's random uint64 member ids: the core
 * uses them directly, so no id-mapping table is needed at the server edge. Ids are only map keys and
 * message fields here, so the cost over `number` is small.
 */
export type NodeId = bigint;

/** The absent node id (no leader, no vote). */
export const NONE: NodeId = 0n;

/** What an entry's data holds: an application command, or an encoded {@link ConfChange}. */
export type EntryType = "normal" | "confChange";

/** One log entry. `index` and `term` are safe integers >= 1 (index 0 is the empty log's sentinel). */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** The membership of a group: voters decide elections and commit; learners only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** Where a snapshot sits in the log and which membership was in force at that index. */
export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** An application snapshot: opaque `data` plus the log position it replaces. */
export interface Snapshot {
  readonly data: Uint8Array;
  readonly metadata: SnapshotMetadata;
}

/** The durable part of a node's Raft state. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** The role of a node. */
export type RaftRole = "follower" | "preCandidate" | "candidate" | "leader";

/** The volatile part of a node's state that the application may want to observe. */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: RaftRole;
}

/**
 * The result of a ReadIndex request: once the local applied index reaches `index`, a read made
 * after the request was issued may be served from the local state machine (linearizable).
 */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

/** Every message type the core sends or receives. The `Msg` prefix keeps etcd's names greppable. */
export type MessageType =
  | "MsgHup"
  | "MsgBeat"
  | "MsgProp"
  | "MsgApp"
  | "MsgAppResp"
  | "MsgVote"
  | "MsgVoteResp"
  | "MsgPreVote"
  | "MsgPreVoteResp"
  | "MsgSnap"
  | "MsgHeartbeat"
  | "MsgHeartbeatResp"
  | "MsgUnreachable"
  | "MsgSnapStatus"
  | "MsgCheckQuorum"
  | "MsgTransferLeader"
  | "MsgTimeoutNow"
  | "MsgReadIndex"
  | "MsgReadIndexResp";

/**
 * A Raft message. Fields not used by a type are zero/empty; `term` 0 marks a local message
 * (or a forwarded proposal / read request, which carry no term on purpose).
 */
export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: number;
  /** MsgApp: term of the entry at `index`; MsgVote: the candidate's last term; rejections: the hint's term. */
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot?: Snapshot;
  readonly reject: boolean;
  readonly rejectHint: number;
  /** Opaque context: ReadIndex request ids, and the leader-transfer marker on votes. */
  readonly context?: Uint8Array;
}

/**
 * One batch of work the application must carry out, in this order (the Ready contract):
 *
 * 1. Persist `snapshot` (if any), then `entries` and `hardState` durably (fsync when `mustSync`).
 *    Writing an entry at index i discards every stored entry at index >= i first.
 * 2. Only then send `messages`: they may acknowledge or depend on what was just persisted
 *    (a follower acknowledges only durable entries; a vote is only valid once the vote is durable).
 * 3. Apply `snapshot` to the state machine, then apply `committedEntries` in order; for each entry of
 *    type `confChange`, decode it and call `applyConfChange`.
 * 4. Serve `readStates` once the applied index reaches each one's `index`.
 * 5. Call `advance(ready)` before any other call on the node.
 */
export interface Ready {
  /** Set only when the leader or role changed since the previous Ready. */
  readonly softState?: SoftState;
  /** Set only when term, vote or commit changed since the previous Ready. */
  readonly hardState?: HardState;
  readonly readStates: readonly ReadState[];
  /** Entries to persist before sending messages; they are not yet committed. */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader, to persist and apply. */
  readonly snapshot?: Snapshot;
  /** Entries that are committed and durable locally, to apply in order. */
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  /** Whether the hard state and entries must be fsynced before messages are sent. */
  readonly mustSync: boolean;
}

/** Why a call was refused. Operating conditions, not bugs: the caller retries or reports. */
export type RaftErrorReason =
  /** The proposal was not accepted (no leader, transfer in progress, size limit, not a member). */
  | "proposalDropped"
  /** A local-only message type was passed to `step`. */
  | "stepLocalMessage"
  /** A response came from a node that is not (or no longer) a member. */
  | "stepPeerNotFound";

/** A change of membership, one member at a time, as etcd's v1 ConfChange. */
export interface ConfChange {
  /**
   * `addNode` adds a voter, or promotes an existing learner; `addLearner` adds a non-voting member;
   * `removeNode` removes a voter or learner.
   */
  readonly type: "addNode" | "addLearner" | "removeNode";
  readonly nodeId: NodeId;
  /**
   * Opaque bytes for the application, carried in the entry (etcd's ConfChange.Context: the
   * member's name and peer URLs). The core ignores them.
   */
  readonly context?: Uint8Array;
}
