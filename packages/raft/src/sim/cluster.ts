/**
 * The seeded whole-cluster simulation: a fault phase (drops, duplicates, delays, partitions, crashes,
 * membership changes, leader transfers, under a client workload of proposals and reads), then a
 * liveness phase (faults stop; a leader must emerge and new proposals must commit in bounded time).
 * Every decision draws from one seeded generator, so a seed replays exactly.
 */
import type { RaftLogger } from "../logger.js";
import { SeededRng } from "../rng.js";
import type { Entry, Message, NodeId, RaftErrorReason } from "../types.js";
import { SafetyChecker } from "./checker.js";
import { NO_FAULTS, SimNetwork } from "./network.js";
import type { FlowLimits, NodeHost } from "./node.js";
import { SimNode } from "./node.js";

/** Time units per member tick (a message takes 1-3 units: a round trip is about one tick). */
const UNITS_PER_TICK = 4;
/** Liveness bound, in ticks: electing a settled leader once faults stop. */
export const LIVENESS_ELECTION_TICKS = 150;
/** Liveness bound, in ticks: committing a proposal, and a member catching up with the leader. */
export const LIVENESS_COMMIT_TICKS = 30;
const LIVENESS_PROPOSALS = 20;
/** A client retries a proposal that did not commit after this many ticks. */
const LIVENESS_RETRY_TICKS = 10;

/** How one simulation run is set up. */
export interface SimOptions {
  readonly seed: number;
  /** Initial voters: 3 or 5. */
  readonly members: number;
  /** Events in the fault phase. */
  readonly events: number;
  /** Lines of the run's trace kept for the failure report. Default 400. */
  readonly traceLines?: number;
  /** 1: trace the core's debug lines too; 2: also every delivered message. Default 0. */
  readonly debug?: number;
}

/** Counters reported after a run. */
export interface SimStats {
  events: number;
  ticks: number;
  proposals: number;
  reads: number;
  crashes: number;
  partitions: number;
  confChanges: number;
  transfers: number;
  leaders: number;
  applied: number;
  messages: number;
  dropped: number;
  duplicated: number;
}

/** A simulated cluster and its fault injector. */
export class SimCluster implements NodeHost {
  readonly rng: SeededRng;
  readonly checker = new SafetyChecker();
  readonly network: SimNetwork;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly stats: SimStats = {
    events: 0,
    ticks: 0,
    proposals: 0,
    reads: 0,
    crashes: 0,
    partitions: 0,
    confChanges: 0,
    transfers: 0,
    leaders: 0,
    applied: 0,
    messages: 0,
    dropped: 0,
    duplicated: 0,
  };
  now = 0;
  private nextNodeId: bigint;
  private nextProposal = 1;
  private nextRead = 1;
  private readonly phase = new Map<NodeId, number>();
  private readonly limits: FlowLimits;
  /** Probability that a member dies between persisting a Ready and sending its messages. */
  private readonly midReadyCrashRate: number;
  /** Liveness phase: proposal id -> tick it was made; deleted once applied by its leader. */
  private readonly awaited = new Map<number, number>();
  private readonly trace: string[] = [];
  /** Messages whose failed delivery is yet to be reported to their sender. */
  private undelivered: Message[] = [];
  private traceAt = 0;

  constructor(readonly options: SimOptions) {
    const opts = options;
    this.rng = new SeededRng(opts.seed);
    this.network = new SimNetwork(new SeededRng(this.rng.next32()));
    this.limits = {
      maxInflightMsgs: this.pick([1, 4, 64])!,
      maxMsgBytes: this.pick([20, 64, 4096])!,
    };
    this.midReadyCrashRate = this.pick([0, 0.0005, 0.002])!;
    const voters: NodeId[] = [];
    for (let i = 1; i <= opts.members; i++) voters.push(BigInt(i));
    this.nextNodeId = BigInt(opts.members + 1);
    for (const id of voters) {
      const node = this.addNode(id);
      // Bootstrap: every initial member starts from the same snapshot holding the membership.
      node.storage.applySnapshot({
        data: new Uint8Array(0),
        metadata: { index: 1, term: 1, confState: { voters, learners: [] } },
      });
      node.storage.setHardState({ term: 1, vote: 0n, commit: 1 });
      node.start();
    }
  }

  private addNode(id: NodeId): SimNode {
    const node = new SimNode(id, new SeededRng(this.rng.next32()), this.loggerFor(id), this.limits);
    this.nodes.set(id, node);
    this.phase.set(id, this.rng.int(UNITS_PER_TICK));
    return node;
  }

  private loggerFor(id: NodeId): RaftLogger {
    const line = (s: string) => this.log(`${id}: ${s}`);
    return { debug: (this.options.debug ?? 0) >= 1 ? line : () => {}, info: line, warn: line };
  }

  /** Appends to the bounded trace printed when a run fails. */
  log(line: string): void {
    const max = this.options.traceLines ?? 400;
    if (max === 0) return;
    const entry = `[t=${this.now}] ${line}`;
    if (this.trace.length < max) this.trace.push(entry);
    else this.trace[this.traceAt++ % max] = entry;
  }

  /** The trace, oldest first, followed by the state of every member. */
  traceLines(): string[] {
    const at = this.traceAt % Math.max(1, this.trace.length);
    return this.trace.slice(at).concat(this.trace.slice(0, at), this.describeNodes());
  }

  private describeNodes(): string[] {
    const lines: string[] = [];
    for (const node of this.nodes.values()) {
      const r = node.raw?.raft;
      if (r === undefined) {
        lines.push(`member ${node.id}: ${node.removed ? "removed" : "down"}`);
        continue;
      }
      lines.push(
        `member ${node.id}: ${r.role} term=${r.term} lead=${r.lead} commit=${r.log.committed} applied=${node.app.index} last=${r.log.lastIndex()} voters=(${r.prs.voters.join(",")}) learners=(${r.prs.learners.join(",")})`,
      );
      if (r.role !== "leader") continue;
      for (const [id, pr] of r.prs.progress) lines.push(`  progress ${id}: ${pr}`);
    }
    return lines;
  }

  // --- NodeHost ---

  send(message: Message): void {
    this.stats.messages++;
    const m = message.type === "MsgSnap" ? this.mergeSnapshot(message) : message;
    const lost = this.network.send(m, this.now);
    // The sender is in the middle of its Ready: report after it advanced.
    if (lost === "partitioned" || (lost === "lost" && m.type === "MsgSnap")) this.undelivered.push(m);
  }

  /**
   * Like etcd's merged snapshot: the transport sends the sender's current applied state instead of
   * the (possibly old) stored snapshot, so the recipient gets a membership that includes it.
   */
  private mergeSnapshot(m: Message): Message {
    const sender = this.nodes.get(m.from)!;
    const snapshot = sender.currentSnapshot();
    return snapshot.metadata.index > (m.snapshot?.metadata.index ?? 0) ? { ...m, snapshot } : m;
  }

  onApplied(node: SimNode, e: Entry): void {
    if (e.type !== "normal" || e.data.byteLength !== 4) return;
    const raft = node.raw!.raft;
    if (raft.role !== "leader") return;
    const id = new DataView(e.data.buffer, e.data.byteOffset, 4).getUint32(0);
    this.awaited.delete(id);
  }

  onRemoved(id: NodeId): void {
    const node = this.nodes.get(id);
    if (node === undefined || node.removed) return;
    this.log(`sim: ${id} removed from the cluster; stopping it`);
    node.removed = true;
    node.crash();
  }

  /** A transport notices failed deliveries: it reports unreachable peers and failed snapshots. */
  private reportUndelivered(m: Message): void {
    const sender = this.nodes.get(m.from);
    if (sender?.raw === undefined) return;
    if (m.type === "MsgSnap") sender.raw.reportSnapshot(m.to, false);
    else sender.raw.reportUnreachable(m.to);
  }

  // --- time and delivery ---

  /** Advances one time unit: delivers due messages, then ticks members whose tick falls here. */
  stepTime(): void {
    this.now++;
    for (const m of this.network.takeDue(this.now)) this.deliver(m);
    for (const node of this.nodes.values()) {
      if (!node.up || (this.now + this.phase.get(node.id)!) % UNITS_PER_TICK !== 0) continue;
      node.raw!.tick();
      this.observe(node);
    }
    if (this.now % UNITS_PER_TICK === 0) this.stats.ticks++;
  }

  private deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    const from = this.nodes.get(m.from);
    if (from === undefined || from.removed) return;
    // A transport notices a peer that is down or cut off, as it does a lost snapshot.
    if (to?.raw === undefined || this.network.partitioned(m.from, m.to)) {
      this.reportUndelivered(m);
      return;
    }
    if ((this.options.debug ?? 0) >= 2)
      this.log(
        `deliver ${m.type} ${m.from}->${m.to} term=${m.term} index=${m.index} logTerm=${m.logTerm} commit=${m.commit} n=${m.entries.length} reject=${m.reject}`,
      );
    to.raw.step(m);
    this.observe(to);
    if (m.type === "MsgSnap") from.raw?.reportSnapshot(m.to, true);
  }

  /** Checks the role-dependent properties of a member right after it changed. */
  observe(node: SimNode): void {
    const raft = node.raw!.raft;
    if (raft.role !== "leader") return;
    this.checker.observeLeader(node.id, raft.term);
    this.checker.checkLeaderComplete(node.id, raft.term, (i) => raft.log.term(i), raft.log.firstIndex() - 1);
  }

  /** Lets members carry out their Readys; with `partial`, some wait (their unpersisted state is at risk). */
  processReadies(partial: boolean): void {
    for (const node of this.nodes.values()) {
      for (let n = 0; n < 8 && node.raw?.hasReady() === true; n++) {
        if (partial && !this.rng.chance(0.85)) break;
        const crash = partial && this.rng.chance(this.midReadyCrashRate);
        if (crash) {
          this.log(`sim: crash ${node.id} after persisting, before sending`);
          this.stats.crashes++;
        }
        node.handleReady(this, crash);
        const failed = this.undelivered;
        this.undelivered = [];
        for (const m of failed) this.reportUndelivered(m);
      }
    }
  }

  /** Records every member's commit index and re-checks leaders. */
  checkAll(): void {
    for (const node of this.nodes.values()) {
      const raft = node.raw?.raft;
      if (raft === undefined) continue;
      this.checker.observeCommit(raft.log.committed, raft.log.term(raft.log.committed), raft.term);
      this.observe(node);
    }
  }

  // --- helpers for events ---

  liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.rng.int(items.length)];
  }

  /** The live leader of the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes.values()) {
      const raft = node.raw?.raft;
      if (raft?.role !== "leader") continue;
      if (best === undefined || raft.term > best.raw!.raft.term) best = node;
    }
    return best;
  }

  /** Proposes a fresh command at `node`; returns why it was refused, if it was. */
  propose(node: SimNode): RaftErrorReason | undefined {
    const id = this.nextProposal++;
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, id);
    this.stats.proposals++;
    return node.raw!.propose(data);
  }

  /** Issues a ReadIndex at `node`, remembering the commit index every member had reached by now. */
  read(node: SimNode): void {
    this.checkAll();
    const readId = this.nextRead++;
    const ctx = new Uint8Array(4);
    new DataView(ctx.buffer).setUint32(0, readId);
    let key = "";
    for (const b of ctx) key += String.fromCharCode(b);
    node.reads.set(key, { readId, commitAtStart: this.checker.maxCommit });
    node.raw!.readIndex(ctx);
    this.stats.reads++;
  }

  /** A new id for a member that joins. */
  newNodeId(): NodeId {
    return this.nextNodeId++;
  }

  /** Creates and starts a member with empty storage (it learns everything from the leader). */
  startNewNode(id: NodeId): SimNode {
    const node = this.nodes.get(id) ?? this.addNode(id);
    if (!node.up) node.start();
    return node;
  }

  // --- liveness ---

  /** Stops all faults and restarts every member that is down. */
  stopFaults(): void {
    this.network.faults = NO_FAULTS;
    this.network.heal();
    for (const node of this.nodes.values()) if (!node.up && !node.removed) node.start();
    this.log("sim: faults stopped; liveness phase");
  }

  /**
   * Runs until one leader has applied its whole log and is known to every member of its
   * configuration; returns the ticks taken.
   */
  awaitStableLeader(maxTicks: number): number {
    const start = this.stats.ticks;
    while (this.stats.ticks - start <= maxTicks) {
      this.stepTime();
      this.processReadies(false);
      this.checkAll();
      if (this.stableLeader() !== undefined) return this.stats.ticks - start;
    }
    throw new Error(`liveness: no stable leader within ${maxTicks} ticks after faults stopped`);
  }

  private stableLeader(): SimNode | undefined {
    const leader = this.leader();
    if (leader === undefined) return undefined;
    const raft = leader.raw!.raft;
    // Settled: everything in the leader's log is applied, so no membership change is still in flight.
    if (raft.log.applied !== raft.log.lastIndex()) return undefined;
    for (const id of raft.prs.ids) {
      const member = this.nodes.get(id)?.raw?.raft;
      if (member === undefined || member.lead !== leader.id || member.term !== raft.term) return undefined;
    }
    return leader;
  }

  /**
   * Proposes through random members that know the leader; each proposal must be applied by the
   * leader within the bound. Like a client, the harness retries a proposal that was refused or
   * silently dropped (say, during a leader transfer) every few ticks, within the same bound.
   */
  checkProposalsCommit(): void {
    for (let i = 0; i < LIVENESS_PROPOSALS; i++) {
      const start = this.stats.ticks;
      const attempts: number[] = [];
      let lastAttempt = Number.NEGATIVE_INFINITY;
      while (attempts.length === 0 || attempts.every((id) => this.awaited.has(id))) {
        if (this.stats.ticks - start > LIVENESS_COMMIT_TICKS) {
          throw new Error(
            `liveness: proposal ${attempts.join("/")} not committed within ${LIVENESS_COMMIT_TICKS} ticks`,
          );
        }
        if (this.stats.ticks - lastAttempt >= LIVENESS_RETRY_TICKS) {
          const id = this.proposeViaMember();
          if (id !== undefined) {
            attempts.push(id);
            lastAttempt = this.stats.ticks;
          }
        }
        this.stepTime();
        this.processReadies(false);
        this.checkAll();
      }
    }
  }

  /** Every member of the leader's configuration applies everything the leader committed, in bounded time. */
  checkConvergence(): void {
    const start = this.stats.ticks;
    for (;;) {
      const leader = this.leader()?.raw?.raft;
      const lagging =
        leader === undefined
          ? ["(no leader)"]
          : leader.prs.ids
              .filter((id) => (this.nodes.get(id)?.app.index ?? 0) < leader.log.committed)
              .map(String);
      if (lagging.length === 0) return;
      if (this.stats.ticks - start > LIVENESS_COMMIT_TICKS) {
        throw new Error(
          `liveness: members ${lagging.join(",")} did not catch up within ${LIVENESS_COMMIT_TICKS} ticks`,
        );
      }
      this.stepTime();
      this.processReadies(false);
      this.checkAll();
    }
  }

  private proposeViaMember(): number | undefined {
    const leader = this.leader();
    if (leader === undefined) return undefined;
    const via = this.pick([...this.nodes.values()].filter((n) => n.raw?.raft.lead === leader.id));
    if (via === undefined) return undefined;
    const id = this.nextProposal;
    if (this.propose(via) !== undefined) return undefined;
    this.log(`sim: liveness proposal ${id} via ${via.id}`);
    this.awaited.set(id, this.stats.ticks);
    return id;
  }
}
