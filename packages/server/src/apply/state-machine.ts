import { etcdserverpb, type keywaypb, type mvccpb } from "@keyway/api";
import { type Member, type MemberChange, type MemberTable, toPbMember } from "../cluster/membership.js";
import { EtcdServerError } from "../errors.js";
import type { LeaseChange, LeaseRecord, LeaseTable } from "../lease/lease-table.js";
import {
  type BackendSize,
  type Compactor,
  decodeSnapshot,
  eventsSince,
  type HashKVResult,
  hashKV,
  type KvBackend,
  LmdbBackend,
  type LogPoint,
  type MvccStore,
  type RevisionEvents,
  type TableEntry,
  type WriteTxn,
} from "../mvcc/index.js";
import { loadState } from "./load-state.js";
import { executeRange, executeRangeChunked, toNumber } from "./range.js";
import { exportBackend, restoredLeaseChanges, type SnapshotExport } from "./snapshot.js";
import { executeTxn, isReadOnlyTxn } from "./txn.js";
import type { ApplyLogger, ApplyOutcome, ApplyResponse, LogEntry } from "./types.js";
import { checkPut, executeDeleteRange, executePut } from "./write-ops.js";

/** Options of {@link StateMachine.open}. */
export interface StateMachineOptions {
  /** Directory of the LMDB environment (created if missing); unused when `kv` is given. */
  dir?: string;
  /** The key-value backend to commit to; default LMDB in `dir`. Crash tests inject a simulated one. */
  kv?: KvBackend;
  /**
   * Granted TTLs below this are raised to it (etcd: ceil(1.5 × election timeout), see
   * config.ts). Part of apply, so every member must use the same value.
   */
  minLeaseTtlSeconds: number;
  logger?: ApplyLogger;
  /** Lets the event loop run between physical compaction steps and read chunks; default: one setImmediate. */
  yieldToEventLoop?: () => Promise<void>;
  /** Backend revisions deleted per compaction step; default 1000, as etcd. */
  compactionBatchRevisions?: number;
}

/** Listener of applied revisions: the revision and its events in sub-revision order. */
export type EventListener = (revision: number, events: mvccpb.Event[]) => void;

/** Listener of a batch's lease grants and revokes, in apply order. */
export type LeaseListener = (changes: readonly LeaseChange[]) => void;

/** Listener of membership changes: the whole member table after the change. */
export type MembersListener = (members: readonly Member[]) => void;

/** The result of applying a conf change entry: the members after it, or the etcd error that refused it. */
export type MemberChangeOutcome =
  | { ok: true; members: readonly Member[] }
  | { ok: false; error: EtcdServerError };

/** Listener of snapshot restores: the restored state's current revision. */
export type RestoreListener = (currentRevision: number) => void;

/** What one batch produced besides its outcomes; handed to listeners after the commit. */
interface BatchEffects {
  revisions: [number, mvccpb.Event[]][];
  compactions: number[];
  leaseChanges: LeaseChange[];
  membersChanged: boolean;
}

const yieldWithSetImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Revisions a chunked read (Range, HashKV) handles before it lets the event loop run: about a
 * millisecond of work (a stored value costs ~4 µs to read and decode).
 */
export const READ_CHUNK_REVISIONS = 256;

/**
 * The deterministic apply of committed log entries over the MVCC store (etcd's applierV3backend
 * plus consistent index). A batch updates the in-memory index and the backend's write buffer,
 * together with the last applied index and term; reads (range, read-only txn) see every applied
 * entry at once. {@link commit} moves the buffer to the key-value backend in one durable
 * transaction (the caller decides when: off the request path), so the committed state is always
 * "entries up to the stored applied index" and a crash replays from the WAL exactly the entries
 * after it; entries at or below the applied index are skipped. No clock, randomness or I/O
 * besides the backend.
 */
export class StateMachine {
  private readonly listeners = new Set<EventListener>();
  private readonly leaseListeners = new Set<LeaseListener>();
  private readonly membersListeners = new Set<MembersListener>();
  private readonly restoreListeners = new Set<RestoreListener>();
  /** The snapshot restore in progress: applies are refused meanwhile, commit() and close() wait for it. */
  private restoring: Promise<void> | undefined;
  private applied: LogPoint;
  private failure: Error | undefined;
  private closed = false;
  private readonly pause: () => Promise<void>;

  private constructor(
    private store: MvccStore,
    private leases: LeaseTable,
    private membership: MemberTable,
    private compactor: Compactor,
    private readonly options: StateMachineOptions,
  ) {
    this.applied = { index: store.backend.appliedIndex, term: store.backend.appliedTerm };
    this.pause = options.yieldToEventLoop ?? yieldWithSetImmediate;
  }

  /**
   * Opens the backend, loads the lease table, rebuilds the key index and the key→lease
   * attachments from the stored KeyValues, and resumes an unfinished physical compaction.
   */
  static open(options: StateMachineOptions): StateMachine {
    const kv = options.kv ?? (options.dir === undefined ? undefined : LmdbBackend.open(options.dir));
    if (kv === undefined) throw new Error("apply: StateMachine.open needs a dir or a kv backend");
    const { store, leases, membership, compactor } = loadState(kv, StateMachine.loadOptions(options));
    return new StateMachine(store, leases, membership, compactor, options);
  }

  private static loadOptions(options: StateMachineOptions) {
    return { ...options, yieldToEventLoop: options.yieldToEventLoop ?? yieldWithSetImmediate };
  }

  /** Last applied log index (in memory; durable once {@link commit} covers it). */
  get appliedIndex(): number {
    return this.applied.index;
  }

  /** Backend writes applied and not yet handed to a {@link commit}. */
  get pendingWrites(): number {
    return this.store.backend.pendingWrites;
  }

  /** The store's latest revision (1 when empty). */
  get currentRevision(): number {
    return this.store.currentRevision;
  }

  /** The logical compaction revision, -1 if never compacted (as etcd reports it). */
  get compactRevision(): number {
    return this.store.compactRevision;
  }

  /**
   * Applies committed entries in order in one backend transaction and returns one outcome per
   * entry. An entry at or below the applied index was applied before a restart; it is skipped
   * and answers `timeout`, which is what etcd's waiter for such an entry ends up with.
   * A failure other than an etcd error is a bug: the state machine refuses further work.
   */
  applyBatch(entries: LogEntry[]): ApplyOutcome[] {
    this.assertHealthy();
    if (this.restoring !== undefined) throw new Error("apply: a snapshot restore is in progress");
    const outcomes: ApplyOutcome[] = [];
    const effects: BatchEffects = { revisions: [], compactions: [], leaseChanges: [], membersChanged: false };
    try {
      const before = this.applied;
      for (const entry of entries) {
        if (entry.index <= this.applied.index) {
          outcomes.push({ ok: false, error: new EtcdServerError("timeout") });
          continue;
        }
        outcomes.push(this.applyEntry(entry.request.request, effects));
        this.applied = { index: entry.index, term: entry.term };
      }
      if (this.applied !== before) this.store.backend.setApplied(this.applied);
    } catch (error) {
      // The buffer may hold half a batch now: it must never be committed (see commit()).
      this.failure = error instanceof Error ? error : new Error(String(error));
      throw this.failure;
    }
    for (const revision of effects.compactions) this.compactor.schedule(revision);
    for (const [revision, events] of effects.revisions) this.emit(revision, events);
    if (effects.leaseChanges.length > 0) this.emitLeaseChanges(effects.leaseChanges);
    if (effects.membersChanged) this.emitMembers();
    return outcomes;
  }

  private applyEntry(request: keywaypb.InternalRequest["request"], effects: BatchEffects): ApplyOutcome {
    try {
      switch (request?.$case) {
        case "compaction": {
          const response = this.compact(request.compaction);
          effects.compactions.push(toNumber(request.compaction.revision));
          return { ok: true, response };
        }
        case "leaseGrant":
          return { ok: true, response: this.grantLease(request.leaseGrant, effects) };
        case "leaseRevoke":
          return { ok: true, response: this.revokeLease(request.leaseRevoke.ID, effects) };
        case "memberAttrSet": {
          const { memberId, name, clientUrls } = request.memberAttrSet;
          if (this.membership.setAttributes(this.store.backend, memberId, name, clientUrls)) {
            effects.membersChanged = true;
          }
          return { ok: true, response: this.memberResponse() };
        }
        default:
          return { ok: true, response: this.applyWrite(request, effects) };
      }
    } catch (error) {
      if (error instanceof EtcdServerError) return { ok: false, error };
      throw error;
    }
  }

  private applyWrite(request: keywaypb.InternalRequest["request"], effects: BatchEffects): ApplyResponse {
    const { store, leases } = this;
    let response: ApplyResponse;
    const txn = store.write();
    try {
      switch (request?.$case) {
        case "put":
          checkPut(store.read(), leases, request.put, true);
          response = executePut(txn, request.put);
          break;
        case "deleteRange":
          response = executeDeleteRange(txn, request.deleteRange);
          break;
        case "txn":
          response = executeTxn(store, leases, request.txn, isReadOnlyTxn(request.txn) ? undefined : txn);
          break;
        default:
          // Lease checkpoints (off by default in etcd 3.4) and alarms are not served yet.
          throw new EtcdServerError("notCapable");
      }
    } catch (error) {
      throw partialWriteFailure(txn, error);
    }
    this.endWrite(txn, effects);
    return response;
  }

  /** Ends a write txn: its events move key→lease attachments and go to the listeners after the commit. */
  private endWrite(txn: WriteTxn, effects: BatchEffects): void {
    const { revision, events } = txn.end();
    if (events.length === 0) return;
    this.leases.track(events);
    effects.revisions.push([revision, events]);
  }

  /** etcd's applier LeaseGrant: the id was chosen before proposing; the lessor starts its clock after the commit. */
  private grantLease(
    req: etcdserverpb.LeaseGrantRequest,
    effects: BatchEffects,
  ): etcdserverpb.LeaseGrantResponse {
    const record = this.leases.grant(this.store.backend, req.ID, req.TTL, this.options.minLeaseTtlSeconds);
    effects.leaseChanges.push({ type: "grant", id: record.id, ttlSeconds: record.ttlSeconds });
    return etcdserverpb.LeaseGrantResponse.fromPartial({
      header: { revision: BigInt(this.store.currentRevision) },
      ID: record.id,
      TTL: BigInt(record.ttlSeconds),
    });
  }

  /**
   * etcd's lessor.Revoke: every attached key is deleted in ONE revision, in key order (so every
   * member's backend hashes alike), and the lease record goes in the same backend transaction.
   * A lease without keys is removed without a new revision.
   */
  private revokeLease(id: bigint, effects: BatchEffects): etcdserverpb.LeaseRevokeResponse {
    const record = this.leases.get(id);
    if (record === undefined) throw new EtcdServerError("leaseNotFound");
    const txn = this.store.write();
    for (const key of [...record.keys].sort()) txn.deleteRange({ key, end: undefined });
    this.endWrite(txn, effects);
    this.leases.remove(this.store.backend, id);
    effects.leaseChanges.push({ type: "revoke", id });
    return {
      header: etcdserverpb.ResponseHeader.fromPartial({ revision: BigInt(this.store.currentRevision) }),
    };
  }

  /** etcd's logical compaction: checks, then the new compaction revision is persisted with the batch. */
  private compact(req: etcdserverpb.CompactionRequest): etcdserverpb.CompactionResponse {
    const revision = toNumber(req.revision);
    if (revision <= this.store.compactRevision) throw new EtcdServerError("compacted");
    if (revision > this.store.currentRevision) throw new EtcdServerError("futureRev");
    this.store.compactRevision = revision;
    this.store.backend.setScheduledCompact(revision);
    return {
      header: etcdserverpb.ResponseHeader.fromPartial({ revision: BigInt(this.store.currentRevision) }),
    };
  }

  /**
   * Writes the initial members of a new cluster (from `--initial-cluster`, ids from
   * cluster/member-id.ts). Every member of a new cluster does it identically on its first start,
   * outside the log; the table must be empty. Durable with the next {@link commit}.
   */
  bootstrapMembers(members: readonly Member[]): void {
    this.assertHealthy();
    this.membership.bootstrap(this.store.backend, members);
    this.emitMembers();
  }

  /** The cluster's members at the latest applied state, by ascending id. */
  members(): readonly Member[] {
    return this.membership.list();
  }

  /** Whether a member id was removed from the cluster (etcd refuses a removed member's messages). */
  isRemoved(id: bigint): boolean {
    return this.membership.isRemoved(id);
  }

  /**
   * etcd's ValidateConfigurationChange against the applied state: the error a conf change would
   * meet if applied now, or undefined. Apply checks again (the state may change before it commits).
   */
  validateMemberChange(change: MemberChange): EtcdServerError | undefined {
    return this.membership.validate(change);
  }

  /** Applies a committed ConfChangeAddNode / AddLearnerNode entry at `entry`; see {@link applyMemberChange}. */
  applyMemberAdd(entry: LogPoint, member: Member): MemberChangeOutcome {
    return this.applyMemberChange(entry, { type: "add", member });
  }

  /** Applies a committed ConfChangeRemoveNode entry; the id joins the removed ids for good. */
  applyMemberRemove(entry: LogPoint, id: bigint): MemberChangeOutcome {
    return this.applyMemberChange(entry, { type: "remove", id });
  }

  /** Applies a committed promotion of a learner (etcd: AddNode with IsPromote in its context). */
  applyMemberPromote(entry: LogPoint, id: bigint): MemberChangeOutcome {
    return this.applyMemberChange(entry, { type: "promote", id });
  }

  /** Applies a committed ConfChangeUpdateNode entry: new peer URLs for a member. */
  applyMemberUpdate(entry: LogPoint, id: bigint, peerUrls: readonly string[]): MemberChangeOutcome {
    return this.applyMemberChange(entry, { type: "update", id, peerUrls });
  }

  /**
   * Applies one committed conf change entry, in log order with {@link applyBatch}: validated as
   * etcd does at apply; a refused change still advances the applied index (the entry was
   * applied, as a no-op), and the caller should then not change Raft's configuration. The change
   * is persisted with the entry's index; listeners hear of it at once. An entry at or below the
   * applied index was applied before a restart and answers `timeout`, as in applyBatch.
   */
  applyMemberChange(entry: LogPoint, change: MemberChange): MemberChangeOutcome {
    this.assertHealthy();
    if (entry.index <= this.applied.index) return { ok: false, error: new EtcdServerError("timeout") };
    const error = this.membership.validate(change);
    if (error === undefined) this.membership.apply(this.store.backend, change);
    this.applied = { index: entry.index, term: entry.term };
    this.store.backend.setApplied(this.applied);
    if (error !== undefined) return { ok: false, error };
    this.emitMembers();
    return { ok: true, members: this.membership.list() };
  }

  /**
   * Subscribes to membership changes (bootstrap, conf changes, published attributes), called
   * after the change is applied with the whole table. Returns the unsubscribe.
   */
  onMembersChanged(listener: MembersListener): () => void {
    this.membersListeners.add(listener);
    return () => this.membersListeners.delete(listener);
  }

  private memberResponse(): etcdserverpb.MemberUpdateResponse {
    return etcdserverpb.MemberUpdateResponse.fromPartial({
      header: { revision: BigInt(this.store.currentRevision) },
      members: this.membership.list().map(toPbMember),
    });
  }

  private emitMembers(): void {
    const members = this.membership.list();
    this.notify(this.membersListeners, (listener) => listener(members), {}, "members listener failed");
  }

  private emitLeaseChanges(changes: readonly LeaseChange[]): void {
    this.notify(this.leaseListeners, (listener) => listener(changes), {}, "lease listener failed");
  }

  private emit(revision: number, events: mvccpb.Event[]): void {
    this.notify(
      this.listeners,
      (listener) => listener(revision, events),
      { revision },
      "event listener failed",
    );
  }

  /** Calls every listener; one that throws is logged and does not stop the others (nor apply). */
  private notify<L>(
    listeners: ReadonlySet<L>,
    call: (listener: L) => void,
    fields: object,
    message: string,
  ): void {
    for (const listener of listeners) {
      try {
        call(listener);
      } catch (error) {
        this.options.logger?.warn({ err: error, ...fields }, message);
      }
    }
  }

  /** Serves a Range at the latest applied state; throws EtcdServerError (compacted, futureRev). */
  range(req: etcdserverpb.RangeRequest): etcdserverpb.RangeResponse {
    this.assertHealthy();
    return executeRange(this.store.read(), req);
  }

  /**
   * {@link range} for client requests, whose results may be large: values are read in chunks of
   * {@link READ_CHUNK_REVISIONS} with the event loop running between them, so one big Range never
   * holds up writes, watchers and other calls for long.
   */
  async rangeChunked(req: etcdserverpb.RangeRequest): Promise<etcdserverpb.RangeResponse> {
    this.assertHealthy();
    return executeRangeChunked(this.store, req, READ_CHUNK_REVISIONS, this.pause);
  }

  /** Serves a txn whose branches only hold ranges (see {@link isReadOnlyTxn}) without the log. */
  readTxn(req: etcdserverpb.TxnRequest): etcdserverpb.TxnResponse {
    this.assertHealthy();
    if (!isReadOnlyTxn(req)) throw new Error("apply: readTxn got a txn that writes");
    return executeTxn(this.store, this.leases, req, undefined);
  }

  /** A granted lease (TTL and attached keys) at the latest applied state, or undefined. */
  lease(id: bigint): LeaseRecord | undefined {
    return this.leases.get(id);
  }

  /** Every granted lease at the latest applied state. */
  allLeases(): LeaseRecord[] {
    return [...this.leases.all()];
  }

  /**
   * Subscribes to lease grants and revokes, called once per batch after its commit (before the
   * proposers' callers hear back). Returns the unsubscribe.
   */
  onLeaseChanges(listener: LeaseListener): () => void {
    this.leaseListeners.add(listener);
    return () => this.leaseListeners.delete(listener);
  }

  /** Resolves when physical compaction up to `revision` has finished (Compact with physical=true). */
  compacted(revision: number): Promise<void> {
    return this.compactor.whenFinished(revision);
  }

  /** etcd's HashKV at `revision` (0 = current), read in chunks between which the event loop runs. */
  async hashKV(revision: number): Promise<HashKVResult> {
    this.assertHealthy();
    return hashKV(this.store, revision, READ_CHUNK_REVISIONS, this.pause);
  }

  /** Backend size and the part of it in use. */
  dbSize(): BackendSize {
    return this.store.backend.size();
  }

  /**
   * Subscribes to applied revisions. Listeners run after the batch is committed, once per
   * revision, in order; a PUT event carries the new KeyValue, a DELETE event the key and
   * mod_revision. prev_kv is not filled (read it at revision - 1). Returns the unsubscribe.
   */
  onEvents(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Events of revisions from `startRevision` on, read back from the backend (for watchers that
   * start in the past); at most `maxRevisions` revisions per call. Throws `compacted` below the
   * compaction revision.
   */
  eventsSince(startRevision: number, maxRevisions = 1000): RevisionEvents[] {
    this.assertHealthy();
    return eventsSince(this.store, startRevision, maxRevisions);
  }

  /**
   * Commits every write applied so far to the key-value backend in one durable transaction and
   * returns the log point it covers: WAL entries up to its index may then be released. Refused
   * after an apply failure, whose half-written batch must never reach the backend.
   */
  async commit(): Promise<LogPoint> {
    await this.restoring?.catch(() => undefined);
    this.assertHealthy();
    const point = this.applied;
    await this.store.backend.commit();
    return point;
  }

  /**
   * Stops physical compaction (it resumes on the next open), commits what was applied (unless
   * apply failed) and closes the backend.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.restoring?.catch(() => undefined);
    await this.compactor.stop();
    try {
      if (this.failure === undefined) await this.store.backend.commit();
    } finally {
      await this.store.backend.close();
    }
  }

  /**
   * Commits what was applied, then dumps every record of the backend as read in one read
   * transaction, a slice of about a millisecond at a time (applies and commits go on meanwhile;
   * the dump is the state at its start). See apply/snapshot.ts and mvcc/snapshot-format.ts.
   */
  async exportSnapshot(): Promise<SnapshotExport> {
    await this.commit();
    return exportBackend(this.store.backend.kv, this.pause);
  }

  /**
   * Replaces the whole state with a dump from {@link exportSnapshot}: checks all of it first (a
   * bad dump throws and changes nothing), writes it durably in ONE backend transaction (a crash
   * leaves the old state or the new one), rebuilds the in-memory state as {@link open} does, and
   * tells the lease and restore listeners. Applies are refused meanwhile; reads are served from
   * the old state (its backend pinned to a read snapshot) until the new one replaces it within
   * one event-loop turn.
   */
  async restoreSnapshot(data: Uint8Array): Promise<void> {
    this.assertHealthy();
    if (this.restoring !== undefined) throw new Error("apply: a snapshot restore is in progress");
    const entries = decodeSnapshot(data);
    this.restoring = this.replaceState(entries);
    try {
      await this.restoring;
    } finally {
      this.restoring = undefined;
    }
  }

  private async replaceState(entries: readonly TableEntry[]): Promise<void> {
    const old = this.store;
    const leasesBefore = this.allLeases();
    await this.compactor.stop();
    await old.backend.commit();
    const pinned = old.backend.kv.snapshot();
    old.backend.pin(pinned);
    try {
      await old.backend.kv.replaceAll(entries);
    } catch (error) {
      // The backend holds the old state or the new one; restarting the member reopens either.
      pinned.release();
      this.failure = error instanceof Error ? error : new Error(String(error));
      throw this.failure;
    }
    ({
      store: this.store,
      leases: this.leases,
      membership: this.membership,
      compactor: this.compactor,
    } = loadState(old.backend.kv, StateMachine.loadOptions(this.options)));
    this.applied = { index: this.store.backend.appliedIndex, term: this.store.backend.appliedTerm };
    // Chunked reads that started on the old state finish on its snapshot.
    void old.readers.idle().then(() => pinned.release());
    const changes = restoredLeaseChanges(leasesBefore, this.allLeases());
    if (changes.length > 0) this.emitLeaseChanges(changes);
    this.emitMembers();
    for (const listener of this.restoreListeners) {
      try {
        listener(this.store.currentRevision);
      } catch (error) {
        this.options.logger?.warn({ err: error }, "restore listener failed");
      }
    }
  }

  /** Subscribes to snapshot restores, called once the restored state serves. Returns the unsubscribe. */
  onRestore(listener: RestoreListener): () => void {
    this.restoreListeners.add(listener);
    return () => this.restoreListeners.delete(listener);
  }

  private assertHealthy(): void {
    if (this.closed) throw new Error("apply: state machine is closed");
    if (this.failure !== undefined)
      throw new Error("apply: state machine failed earlier", { cause: this.failure });
  }
}

/**
 * What an error thrown while a write txn ran becomes. Requests are checked before they write, so
 * an etcd error normally leaves the txn empty and is the caller's answer. After the txn wrote,
 * the index and backend hold half a revision: that is an invariant failure (etcd panics there),
 * and a plain Error makes the batch fail and the member stop instead of replying.
 */
export function partialWriteFailure(txn: WriteTxn, error: unknown): unknown {
  if (!(error instanceof EtcdServerError) || txn.revision === txn.beginRevision) return error;
  return new Error(`apply: etcd error after a write txn had written (etcd panics here): ${error.message}`, {
    cause: error,
  });
}
