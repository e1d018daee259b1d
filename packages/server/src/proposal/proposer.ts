import { encodeMessage, keywaypb } from "@keyway/api";
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type MemoryStorage,
  type Message,
  NONE,
  type RawNode,
  type Ready,
  type SoftState,
} from "@keyway/raft";
import type { ApplyOutcome, LogEntry, StateMachine } from "../apply/index.js";
import { encodeConfChangeContext, raftConfChange } from "../cluster/conf-change-context.js";
import type { Member, MemberChange } from "../cluster/membership.js";
import { EtcdServerError } from "../errors.js";
import type { IdGenerator } from "../member/id-generator.js";
import type { Wal, WalEntry } from "../wal/index.js";
import { ConfChanges } from "./conf-changes.js";
import { ReadIndexer } from "./read-index.js";
import { type Waiter, Waiters } from "./waiters.js";

/** The request payload of one log entry (everything an InternalRequest carries but its id). */
export type Proposal = NonNullable<keywaypb.InternalRequest["request"]>;

/**
 * Proposals accepted but not yet applied before new ones are refused with `too many requests`:
 * etcd's bound on the gap between committed and applied entries, and what keeps a flood of
 * writes from queueing without limit in memory.
 */
export const MAX_IN_FLIGHT_PROPOSALS = 5_000;

/**
 * Encoded bytes of proposals accepted but not yet applied before new ones are refused with
 * `too many requests`: with 1.5 MiB requests the count bound alone would let 7 GiB queue up.
 */
export const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/** Entries kept in Raft's log below a checkpoint for followers to catch up from (etcd's 5000). */
export const CATCH_UP_ENTRIES = 5_000;

/** Where Raft messages for other members go (the peer transport; nothing for one member). */
export interface MessageSink {
  send(messages: readonly Message[]): void;
}

/** What the proposer drives and where it reports. */
export interface ProposerOptions {
  memberId: bigint;
  node: RawNode;
  /** The node's storage: entries and hard state are added once the WAL holds them. */
  log: MemoryStorage;
  wal: Wal;
  stateMachine: StateMachine;
  /** The membership the node started with (the WAL's snapshot marker or the initial cluster). */
  confState: ConfState;
  peers: MessageSink;
  ids: IdGenerator;
  /** Milliseconds, monotonic enough for deadlines. */
  now(): number;
  /** One Raft tick (etcd's --heartbeat-interval). */
  tickMs: number;
  /** How long a proposal or linearizable read may wait (etcd: 5 s + 2 election timeouts). */
  requestTimeoutMs: number;
  /** Proposals larger than this, encoded, fail with `request is too large`. */
  maxRequestBytes: number;
  /** Encoded bytes in flight before `too many requests`; default {@link MAX_IN_FLIGHT_BYTES}. */
  maxInFlightBytes?: number;
  /**
   * Called once if the WAL cannot be written or apply fails unexpectedly: the member must stop,
   * it can no longer promise durability or a state that matches its backend.
   */
  onFatal(error: Error): void;
  /** Called after every applied batch (background commits, checkpoints). */
  onApplied(): void;
  logger: { info(obj: object, msg: string): void };
}

/** Who leads, as this member last heard. */
export interface Leadership {
  lead: bigint;
  term: number;
  isLeader: boolean;
}

/**
 * A member's write path and its Raft loop. Proposals become log entries; the loop carries out
 * each Ready in the order docs/raft.md requires: persist (WAL, fsync when Raft says so), send,
 * apply committed entries, serve read states, advance. Callers get their entry's outcome when
 * it is applied here, found by request id (ids are unique across members and restarts), so a
 * write made on a follower is answered by the follower once the leader's log reaches it.
 *
 * Everything that arrives while a Ready is being carried out (proposals, peer messages, ticks,
 * reads) waits and is fed to the node in one go afterwards: that is the group commit, and what
 * keeps the node's no-call-while-Ready-outstanding rule.
 */
export class Proposer {
  private readonly node: RawNode;
  private readonly waiters = new Waiters();
  private readonly reads = new ReadIndexer();
  private readonly confChanges = new ConfChanges();
  /** Membership changes waiting to be handed to the node. */
  private unproposedConf: ConfChange[] = [];
  /** Waiting to be handed to the node (arrived during a Ready, or no leader yet). */
  private unproposed: Waiter[] = [];
  private inbox: Message[] = [];
  /**
   * Calls on the node asked for from outside the loop (an election, a leader transfer, the
   * transport's reports): the node takes no call while a Ready is out, so they wait for the next
   * turn of the loop, like everything else.
   */
  private commands: Array<(node: RawNode) => void> = [];
  private commit = 0;
  private ticks = 0;
  private busy = false;
  private scheduled = false;
  private failure: Error | undefined;
  private closed = false;
  private ticker: NodeJS.Timeout;
  private inFlightBytes = 0;
  /** The latest hard state when only its commit index changed since the last WAL write. */
  private unwrittenHardState: HardState | undefined;
  private leadership: Leadership = { lead: NONE, term: 0, isLeader: false };
  private readonly leaderListeners: Array<(leadership: Leadership) => void> = [];
  private readonly appliedListeners: Array<() => void> = [];
  /** Highest index applied here, empty entries and conf changes included. */
  private applied: number;
  /** Membership changes applied, oldest first, for the checkpoint's snapshot marker. */
  private confStates: Array<{ index: number; confState: ConfState }>;

  constructor(private readonly options: ProposerOptions) {
    this.node = options.node;
    this.applied = options.log.snapshot().metadata.index;
    this.commit = options.log.hardState().commit;
    this.confStates = [{ index: this.applied, confState: options.confState }];
    this.ticker = setInterval(() => this.onTick(), options.tickMs);
    this.ticker.unref();
  }

  /** Index of the last entry in the log. */
  get lastIndex(): number {
    return this.options.log.lastIndex();
  }

  /** Highest log index applied (no-op and membership entries included). */
  get appliedIndex(): number {
    return this.applied;
  }

  /** Current leader and term as this member knows them. */
  get leader(): Leadership {
    return this.leadership;
  }

  /** Called on every change of leader or of this member's role. */
  onLeaderChange(listener: (leadership: Leadership) => void): void {
    this.leaderListeners.push(listener);
  }

  /** The membership in force at log index `index` (for snapshot markers). */
  confStateAt(index: number): ConfState {
    let found = this.confStates[0]?.confState ?? { voters: [], learners: [] };
    for (const change of this.confStates) if (change.index <= index) found = change.confState;
    return found;
  }

  /**
   * Lets Raft's in-memory log forget what a checkpoint at `index` covers, but for the last
   * {@link CATCH_UP_ENTRIES} entries: a follower that far behind gets entries, one further behind
   * a snapshot (the state machine's, taken when it is sent).
   */
  compactLog(index: number): void {
    this.snapshotAt(index);
    this.compactLogThrough(index - CATCH_UP_ENTRIES);
  }

  /** Records a snapshot point at `index` (its data is the state machine's when it is sent). */
  private snapshotAt(index: number): void {
    const { log } = this.options;
    if (index > log.snapshot().metadata.index && index <= log.lastIndex()) {
      log.createSnapshot(index, this.confStateAt(index), new Uint8Array(0));
    }
  }

  /** Drops Raft's in-memory entries through `index`, after recording a snapshot point there. */
  private compactLogThrough(index: number): void {
    const { log } = this.options;
    if (index < log.firstIndex()) return;
    this.snapshotAt(index);
    log.compact(index);
  }

  /** Starts an election now (a member alone in its cluster then leads at once). */
  campaign(): void {
    this.command((node) => node.campaign());
  }

  /** Lets `ticks` ticks pass at once. */
  advanceTicks(ticks: number): void {
    this.ticks += ticks;
    this.schedule();
  }

  /** Delivers a message from a peer. */
  receive(message: Message): void {
    this.inbox.push(message);
    this.schedule();
  }

  /** Tells the node that a peer could not be reached (the next Ready will probe it again). */
  reportUnreachable(id: bigint): void {
    this.command((node) => node.reportUnreachable(id));
  }

  /** Tells the node whether a snapshot sent to `id` arrived (its progress waits for this). */
  reportSnapshot(id: bigint, delivered: boolean): void {
    this.command((node) => node.reportSnapshot(id, delivered));
  }

  /** Highest log index known committed (etcd's Status raftIndex). */
  get commitIndex(): number {
    return this.commit;
  }

  /** Each member's replication progress (match index), on the leader only. */
  progress(): ReadonlyMap<bigint, { match: number }> | undefined {
    return this.leadership.isLeader ? this.node.status().progress : undefined;
  }

  /** The membership now in force. */
  get confState(): ConfState {
    return this.confStates.at(-1)?.confState ?? this.options.confState;
  }

  /** Proposes one request; resolves with its apply outcome once it is committed and applied here. */
  propose(request: Proposal): Promise<ApplyOutcome> {
    if (this.failure !== undefined || this.closed) return Promise.reject(new EtcdServerError("stopped"));
    const message: keywaypb.InternalRequest = { id: this.options.ids.next(), request };
    const encoded = encodeMessage(keywaypb.InternalRequest, message);
    if (encoded.length > this.options.maxRequestBytes) {
      return Promise.reject(new EtcdServerError("requestTooLarge"));
    }
    if (
      this.waiters.size >= MAX_IN_FLIGHT_PROPOSALS ||
      this.inFlightBytes + encoded.length > (this.options.maxInFlightBytes ?? MAX_IN_FLIGHT_BYTES)
    )
      return Promise.reject(new EtcdServerError("tooManyRequests"));
    this.inFlightBytes += encoded.length;
    return new Promise<ApplyOutcome>((resolve, reject) => {
      const settle = () => {
        this.inFlightBytes -= encoded.length;
      };
      const waiter: Waiter = {
        request: message,
        encoded,
        deadlineMs: this.options.now() + this.options.requestTimeoutMs,
        resolve: (outcome) => {
          settle();
          resolve(outcome);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      this.waiters.add(waiter);
      this.unproposed.push(waiter);
      this.schedule();
    });
  }

  /**
   * Proposes a membership change; resolves with the members once it is applied here, rejects
   * with the error the member table gave it (etcd's apply-time checks) or `request timed out`.
   */
  proposeConfChange(change: MemberChange, signal?: AbortSignal): Promise<readonly Member[]> {
    if (this.failure !== undefined || this.closed) return Promise.reject(new EtcdServerError("stopped"));
    const requestId = this.options.ids.next();
    const cc = raftConfChange(change, encodeConfChangeContext({ requestId, change }));
    return new Promise<readonly Member[]>((resolve, reject) => {
      const deadlineMs = this.options.now() + this.options.requestTimeoutMs;
      this.confChanges.wait(requestId, { deadlineMs, resolve, reject });
      signal?.addEventListener("abort", () => {
        this.confChanges.forget(requestId);
        reject(new EtcdServerError("requestCanceled"));
      });
      this.unproposedConf.push(cc);
      this.schedule();
    });
  }

  /** Hands leadership to `target` (etcd's MoveLeader); resolves once the leader is `target`. */
  async transferLeadership(target: bigint): Promise<void> {
    const deadline = this.options.now() + this.options.requestTimeoutMs;
    this.command((node) => node.transferLeader(target));
    while (this.leadership.lead !== target) {
      if (this.options.now() > deadline) throw new EtcdServerError("timeoutLeaderTransfer");
      await new Promise((resolve) => setTimeout(resolve, this.options.tickMs));
    }
  }

  /**
   * Waits until a read made now may be served from the local state and be linearizable: the
   * leader confirms its commit index with a heartbeat round, then this member applies up to it.
   */
  linearizableRead(): Promise<void> {
    if (this.failure !== undefined || this.closed) return Promise.reject(new EtcdServerError("stopped"));
    // The only voter leads for good: its own commit index is the cluster's, no round needed.
    if (this.leadership.isLeader && this.isSoleVoter) {
      return this.applied >= this.commit ? Promise.resolve() : this.appliedUpTo(this.commit);
    }
    const read = this.reads.read(this.options.now() + this.options.requestTimeoutMs);
    this.schedule();
    return read;
  }

  /** Whether this member is the only voter: it needs no election timeout, nor a ReadIndex round, to lead. */
  get isSoleVoter(): boolean {
    const { voters } = this.confState;
    return voters.length === 1 && voters[0] === this.options.memberId;
  }

  /** Resolves once the member has applied everything up to `index`. */
  async appliedUpTo(index: number): Promise<void> {
    while (this.applied < index && this.failure === undefined && !this.closed) {
      await new Promise<void>((resolve) => this.appliedListeners.push(resolve));
    }
  }

  /** Resolves when every proposal made so far has been applied or has failed. */
  async drain(): Promise<void> {
    while ((this.waiters.size > 0 || this.busy || this.scheduled) && this.failure === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Refuses new work, waits for proposals in flight (at most `graceMs`), then stops the loop. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    await Promise.race([this.drain(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    clearInterval(this.ticker);
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 1));
    const hardState = this.unwrittenHardState;
    if (hardState !== undefined && this.failure === undefined) await this.options.wal.append({ hardState });
    this.failure ??= new EtcdServerError("stopped");
    this.rejectAll();
  }

  private onTick(): void {
    this.ticks++;
    const now = this.options.now();
    this.waiters.expire(now);
    this.confChanges.expire(now);
    this.unproposed = this.unproposed.filter((waiter) => waiter.deadlineMs > now);
    if (this.reads.tick(now)) this.schedule();
    this.schedule();
  }

  private command(command: (node: RawNode) => void): void {
    this.commands.push(command);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.busy || this.failure !== undefined) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  /** Feeds what arrived to the node, then carries out its Ready, if any. */
  private run(): void {
    this.scheduled = false;
    if (this.busy || this.failure !== undefined) return;
    const { node } = this;
    let rd: Ready;
    try {
      for (; this.ticks > 0; this.ticks--) node.tick();
      const inbox = this.inbox;
      this.inbox = [];
      // A refusal (a response from a removed member) is normal operation: the message is dropped.
      for (const message of inbox) node.step(message);
      for (const command of this.commands.splice(0)) command(node);
      this.proposeWaiting();
      if (this.reads.wantsRequest && this.leadership.lead !== NONE) {
        node.readIndex(this.reads.issue(this.options.now()));
      }
      if (!node.hasReady()) return;
      rd = node.ready();
    } catch (error) {
      this.fail(error);
      return;
    }
    this.busy = true;
    this.handle(rd).then(
      () => {
        this.busy = false;
        this.schedule();
      },
      (error: unknown) => {
        this.busy = false;
        this.fail(error);
      },
    );
  }

  /** Hands waiting proposals to the node; without a leader they wait (until their deadline). */
  private proposeWaiting(): void {
    if (this.leadership.lead === NONE) return;
    for (const cc of this.unproposedConf.splice(0)) this.node.proposeConfChange(cc);
    if (this.unproposed.length === 0) return;
    const waiting = this.unproposed;
    this.unproposed = [];
    for (const [i, waiter] of waiting.entries()) {
      if (this.node.propose(waiter.encoded) === "proposalDropped") {
        // Leader transfer or the uncommitted-bytes limit: try again on the next turn.
        this.unproposed = waiting.slice(i);
        return;
      }
    }
  }

  /**
   * Carries out one Ready. Its committed entries are durable here already (the core hands out
   * only those), so they are applied while the new entries are being written, as etcd does; a
   * leader's appends and heartbeats go out before its own write too (its copy counts toward the
   * commit only after advance), while every other message waits for the write it may vouch for.
   */
  private async handle(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState, rd.hardState?.term);
    else if (rd.hardState !== undefined && rd.hardState.term !== this.leadership.term) {
      this.setLeadership({ ...this.leadership, term: rd.hardState.term });
    }
    if (rd.snapshot !== undefined) await this.install(rd);
    const early = this.leadership.isLeader ? rd.messages.filter(isLeaderReplication) : [];
    const late = early.length > 0 ? rd.messages.filter((m) => !isLeaderReplication(m)) : rd.messages;
    if (early.length > 0) this.options.peers.send(early);
    const persisted = this.persist(rd);
    this.apply(rd.committedEntries);
    await persisted;
    if (late.length > 0) this.options.peers.send(late);
    this.reads.answered(rd.readStates, this.applied);
    this.node.advance(rd);
    if (rd.committedEntries.length > 0) {
      this.options.onApplied();
      const listeners = this.appliedListeners.splice(0);
      for (const listener of listeners) listener();
    }
  }

  /**
   * Installs a snapshot from the leader: the state machine takes the leader's (durably), then the
   * WAL records the snapshot's log point and membership, then Raft's storage restarts there. In
   * that order a crash leaves either the old member or one whose backend is at least as recent
   * as its WAL's snapshot marker, which recovery accepts. The leader's data is newer than the
   * snapshot's index (it is taken when sent); entries up to the data's applied index are skipped
   * when they arrive.
   */
  private async install(rd: Ready): Promise<void> {
    const snapshot = rd.snapshot as NonNullable<Ready["snapshot"]>;
    const { index, term, confState } = snapshot.metadata;
    await this.options.stateMachine.restoreSnapshot(snapshot.data);
    await this.options.wal.append({ snapshot: { index, term, confState } });
    this.options.log.applySnapshot({ ...snapshot, data: new Uint8Array(0) });
    this.applied = index;
    this.commit = Math.max(this.commit, index);
    this.confStates.push({ index, confState });
    this.options.logger.info(
      { index, term, appliedIndex: this.options.stateMachine.appliedIndex },
      "installed a snapshot from the leader",
    );
  }

  /**
   * Writes entries and hard state to the WAL, then to the node's storage. A change of the commit
   * index alone needs no write of its own (Raft does not require it durable): it rides along with
   * the next write, as etcd's unsynced hard-state saves do.
   */
  private async persist(rd: Ready): Promise<void> {
    if (rd.hardState !== undefined) {
      this.unwrittenHardState = rd.hardState;
      this.commit = Math.max(this.commit, rd.hardState.commit);
    }
    if (rd.entries.length > 0 || rd.mustSync) {
      const hardState = this.unwrittenHardState;
      this.unwrittenHardState = undefined;
      await this.options.wal.append({ entries: rd.entries.map(toWalEntry), ...(hardState && { hardState }) });
    }
    this.options.log.append(rd.entries);
    if (rd.hardState !== undefined) this.options.log.setHardState(rd.hardState);
  }

  /**
   * Applies committed entries in order. Entries the backend already holds (replayed after a
   * restart) and empty entries (a new leader's) only move the applied index; membership changes
   * go to the node.
   */
  private apply(entries: readonly Entry[]): void {
    const { stateMachine } = this.options;
    let batch: LogEntry[] = [];
    let owners: Array<Waiter | undefined> = [];
    const flush = () => {
      if (batch.length === 0) return;
      const outcomes = stateMachine.applyBatch(batch);
      for (const [i, owner] of owners.entries()) owner?.resolve(outcomes[i] as ApplyOutcome);
      batch = [];
      owners = [];
    };
    try {
      for (const entry of entries) {
        if (entry.type === "confChange") {
          flush();
          const confState = this.confChanges.apply(entry, this.node, stateMachine);
          if (confState !== undefined) {
            this.confStates.push({ index: entry.index, confState });
            // A member that joins is sent a snapshot, not the log: the log alone holds neither
            // the founding membership nor what the founders wrote outside it.
            this.compactLogThrough(entry.index);
          }
        } else if (entry.data.length > 0 && entry.index > stateMachine.appliedIndex) {
          let owner = this.waiters.takeByData(entry.data);
          const request = owner?.request ?? keywaypb.InternalRequest.decode(entry.data);
          owner ??= this.waiters.takeById(request.id);
          batch.push({ index: entry.index, term: entry.term, request });
          owners.push(owner);
        }
        this.applied = entry.index;
      }
      flush();
    } catch (error) {
      for (const owner of owners) owner?.reject(new EtcdServerError("stopped"));
      throw new Error("apply failed; the member stops", { cause: error });
    }
  }

  private onSoftState(soft: SoftState, term: number | undefined): void {
    const changed = soft.lead !== this.leadership.lead;
    this.setLeadership({
      lead: soft.lead,
      term: term ?? this.leadership.term,
      isLeader: soft.role === "leader",
    });
    if (changed) this.reads.leaderChanged();
  }

  private setLeadership(leadership: Leadership): void {
    const roleChanged =
      leadership.lead !== this.leadership.lead || leadership.isLeader !== this.leadership.isLeader;
    this.leadership = leadership;
    if (!roleChanged) return;
    for (const listener of this.leaderListeners) listener(leadership);
  }

  private fail(cause: unknown): void {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    if (this.failure !== undefined) return;
    this.failure = error;
    clearInterval(this.ticker);
    this.rejectAll();
    this.options.onFatal(error);
  }

  private rejectAll(): void {
    const stopped = () => new EtcdServerError("stopped");
    this.unproposed = [];
    this.waiters.rejectAll(stopped);
    this.confChanges.rejectAll(stopped);
    this.reads.rejectAll(stopped);
    for (const listener of this.appliedListeners.splice(0)) listener();
  }
}

/** A leader's message that depends on nothing it has yet to write (see handle()). */
function isLeaderReplication(message: Message): boolean {
  return message.type === "MsgApp" || message.type === "MsgHeartbeat";
}

function toWalEntry(entry: Entry): WalEntry {
  const walEntry: WalEntry = { index: entry.index, term: entry.term, data: entry.data };
  if (entry.type === "confChange") walEntry.confChange = true;
  return walEntry;
}
