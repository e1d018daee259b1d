/**
 * One simulated member: durable storage that survives crashes, a Raft node and state machine that do
 * not, and the application's side of the Ready contract (persist, send, apply, advance).
 */
import { decodeConfChange } from "../conf-change.js";
import type { RaftLogger } from "../logger.js";
import { RawNode } from "../raw-node.js";
import type { SeededRng } from "../rng.js";
import { MemoryStorage } from "../storage.js";
import type { Entry, Message, NodeId, Ready, Snapshot } from "../types.js";
import { bytesKey } from "../util.js";
import type { AppState } from "./app.js";
import { decodeAppSnapshot, encodeAppSnapshot, foldEntry } from "./app.js";
import type { SafetyChecker } from "./checker.js";

/** Simulation tuning shared by every member. */
export const ELECTION_TICKS = 10;
/** Take a snapshot every this many applied entries... */
const SNAPSHOT_EVERY = 64;
/** ...and keep this many entries behind it for slow followers. */
const SNAPSHOT_KEEP = 16;

/** Flow-control limits drawn per seed: small ones split appends, which exercises partial acknowledgements. */
export interface FlowLimits {
  readonly maxInflightMsgs: number;
  readonly maxMsgBytes: number;
}

/** A read waiting for its ReadState, then for the state machine to catch up. */
export interface PendingRead {
  readonly readId: number;
  readonly commitAtStart: number;
  index?: number;
}

/** What the cluster provides to a member while it handles a Ready. */
export interface NodeHost {
  readonly checker: SafetyChecker;
  send(m: Message): void;
  onApplied(node: SimNode, entry: Entry): void;
  onRemoved(id: NodeId): void;
}

/** A member of the simulated cluster. */
export class SimNode {
  readonly storage = new MemoryStorage();
  raw: RawNode | undefined;
  app: AppState = { index: 0, hash: 0, confState: { voters: [], learners: [] } };
  /** ReadIndex requests issued here, by context key. */
  reads = new Map<string, PendingRead>();
  removed = false;

  constructor(
    readonly id: NodeId,
    private readonly rng: SeededRng,
    private readonly logger: RaftLogger,
    private readonly limits: FlowLimits,
  ) {}

  get up(): boolean {
    return this.raw !== undefined;
  }

  /** Starts (or restarts) from durable storage: state machine from the snapshot, log replayed by Raft. */
  start(): void {
    const snap = this.storage.snapshot();
    this.app = decodeAppSnapshot(snap);
    this.reads = new Map();
    this.raw = new RawNode({
      id: this.id,
      storage: this.storage,
      rng: this.rng,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: 1,
      applied: snap.metadata.index,
      maxInflightMsgs: this.limits.maxInflightMsgs,
      maxMsgBytes: this.limits.maxMsgBytes,
      logger: this.logger,
    });
  }

  /** Loses everything not persisted: Raft's memory, the state machine, queued reads. */
  crash(): void {
    this.raw = undefined;
    this.reads = new Map();
  }

  /**
   * Carries out one Ready in the contract's order. With `crashAfterPersist` the member dies right
   * after its fsync: nothing is sent or applied, and the restarted member must cope.
   */
  handleReady(host: NodeHost, crashAfterPersist = false): void {
    const raw = this.raw!;
    const rd = raw.ready();
    this.persist(rd, host);
    if (crashAfterPersist) {
      this.crash();
      return;
    }
    for (const m of rd.messages) {
      host.checker.checkDurableBeforeSend(m, this.storage);
      host.send(m);
    }
    if (rd.snapshot !== undefined) this.restoreApp(rd, host);
    for (const e of rd.committedEntries) {
      this.apply(e, host);
      if (this.removed) return;
    }
    for (const rs of rd.readStates) {
      const read = this.reads.get(bytesKey(rs.requestCtx));
      if (read !== undefined) read.index = rs.index;
    }
    raw.advance(rd);
    this.serveReads(host);
    this.maybeSnapshot();
  }

  private persist(rd: Ready, host: NodeHost): void {
    if (rd.snapshot !== undefined) this.storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      this.storage.append(rd.entries);
      const first = this.storage.firstIndex();
      for (const e of rd.entries) {
        if (e.index < first) continue;
        host.checker.observePersisted(this.id, e, this.storage.term(e.index - 1));
      }
    }
    if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
  }

  private restoreApp(rd: Ready, host: NodeHost): void {
    const snap = rd.snapshot!;
    this.app = decodeAppSnapshot(snap);
    host.checker.observeSnapshotRestored(this.id, this.app.index, this.app.hash);
  }

  private apply(e: Entry, host: NodeHost): void {
    if (e.index !== this.app.index + 1) {
      throw new Error(`${this.id} applied ${e.index} after ${this.app.index}: gap or repeat`);
    }
    this.app.index = e.index;
    this.app.hash = foldEntry(this.app.hash, e);
    host.checker.observeApplied(this.id, e, this.app.hash);
    if (e.type === "confChange") {
      const cc = decodeConfChange(e.data);
      this.app.confState = this.raw!.applyConfChange(cc);
      if (cc.type === "removeNode") host.onRemoved(cc.nodeId);
    }
    host.onApplied(this, e);
  }

  private serveReads(host: NodeHost): void {
    for (const [key, read] of this.reads) {
      if (read.index === undefined || read.index > this.app.index) continue;
      host.checker.checkRead(this.id, read.readId, read.commitAtStart, this.app.index);
      this.reads.delete(key);
    }
  }

  /** A snapshot of the state machine as applied right now. */
  currentSnapshot(): Snapshot {
    const term = this.storage.term(this.app.index);
    return {
      data: encodeAppSnapshot(this.app),
      metadata: { index: this.app.index, term, confState: this.app.confState },
    };
  }

  private maybeSnapshot(): void {
    const snapIndex = this.storage.snapshot().metadata.index;
    if (this.app.index - snapIndex < SNAPSHOT_EVERY) return;
    this.storage.createSnapshot(this.app.index, this.app.confState, encodeAppSnapshot(this.app));
    const compactTo = this.app.index - SNAPSHOT_KEEP;
    if (compactTo >= this.storage.firstIndex()) this.storage.compact(compactTo);
  }
}
