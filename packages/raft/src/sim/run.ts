/**
 * One simulation run: the fault-phase event mix, then the liveness phase, returning a verdict.
 */
import type { NodeId } from "../types.js";
import { SafetyViolation } from "./checker.js";
import { LIVENESS_ELECTION_TICKS, SimCluster, type SimOptions, type SimStats } from "./cluster.js";
import type { SimNode } from "./node.js";

/** The verdict of one run. */
export interface SimResult {
  readonly seed: number;
  readonly members: number;
  readonly ok: boolean;
  /** The broken property or liveness bound, when not ok. */
  readonly error?: string;
  /** The last lines of the run's trace, when not ok. */
  readonly trace?: readonly string[];
  readonly stats: SimStats;
  /** Ticks to elect a stable leader once faults stopped. */
  readonly recoveryTicks: number;
}

/** An event of the fault phase and its base weight. */
type WeightedEvent = readonly [number, (c: SimCluster) => void];

/** Events of the fault phase with their base weights (out of 1000). */
const EVENTS: readonly WeightedEvent[] = [
  [690, (c) => c.stepTime()],
  [130, proposeSomewhere],
  [70, readSomewhere],
  [35, restartOne],
  [15, (c) => c.network.heal()],
  [15, crashOne],
  [10, partition],
  [12, changeMembership],
  [10, transferLeadership],
  [13, redrawFaults],
];
/** How many of EVENTS (the first ones: time, workload, restarts, heals) keep their weight in every seed. */
const STEADY_EVENTS = 5;

/**
 * The seed's own mix ("swarm testing"): each fault's weight is scaled by 0, ½, 1 or 3, so some seeds
 * never crash and others churn membership or partition all the time.
 */
function drawMix(c: SimCluster): WeightedEvent[] {
  const scales = [0, 0.5, 1, 3];
  return EVENTS.map(
    ([w, fn], i) => [i < STEADY_EVENTS ? w : w * scales[c.rng.int(scales.length)]!, fn] as const,
  );
}

/** Runs one seed: `events` fault-phase events, then the liveness phase. Never throws. */
export function runSimulation(opts: SimOptions): SimResult {
  const cluster = new SimCluster(opts);
  let recoveryTicks = 0;
  try {
    redrawFaults(cluster);
    const mix = drawMix(cluster);
    const total = mix.reduce((sum, [w]) => sum + w, 0);
    for (let i = 0; i < opts.events; i++) {
      pickEvent(cluster, mix, total)(cluster);
      cluster.stats.events++;
      cluster.processReadies(true);
      cluster.checkAll();
    }
    cluster.stopFaults();
    recoveryTicks = cluster.awaitStableLeader(LIVENESS_ELECTION_TICKS);
    cluster.checkProposalsCommit();
    cluster.checkConvergence();
  } catch (err) {
    finishStats(cluster);
    const error =
      err instanceof SafetyViolation || err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return {
      seed: opts.seed,
      members: opts.members,
      ok: false,
      error,
      trace: cluster.traceLines(),
      stats: cluster.stats,
      recoveryTicks,
    };
  }
  finishStats(cluster);
  return { seed: opts.seed, members: opts.members, ok: true, stats: cluster.stats, recoveryTicks };
}

function finishStats(c: SimCluster): void {
  c.stats.leaders = c.checker.counts.leaders;
  c.stats.applied = c.checker.counts.applied;
  c.stats.dropped = c.network.counts.dropped;
  c.stats.duplicated = c.network.counts.duplicated;
}

function pickEvent(c: SimCluster, mix: readonly WeightedEvent[], total: number): (c: SimCluster) => void {
  let x = c.rng.float() * total;
  for (const [w, fn] of mix) {
    if (x < w) return fn;
    x -= w;
  }
  return mix[0]![1];
}

function members(c: SimCluster): SimNode[] {
  return [...c.nodes.values()].filter((n) => !n.removed);
}

function proposeSomewhere(c: SimCluster): void {
  const node = c.pick(c.liveNodes());
  if (node !== undefined) c.propose(node);
}

function readSomewhere(c: SimCluster): void {
  const node = c.pick(c.liveNodes());
  if (node !== undefined) c.read(node);
}

/** Crashes a member, keeping a majority of the original size up most of the time. */
function crashOne(c: SimCluster): void {
  const all = members(c);
  const down = all.filter((n) => !n.up).length;
  if (down >= Math.floor((all.length - 1) / 2) && !c.rng.chance(0.1)) return;
  const node = c.pick(all.filter((n) => n.up));
  if (node === undefined) return;
  c.log(`sim: crash ${node.id}`);
  node.crash();
  c.stats.crashes++;
}

function restartOne(c: SimCluster): void {
  const node = c.pick(members(c).filter((n) => !n.up));
  if (node === undefined) return;
  c.log(`sim: restart ${node.id}`);
  node.start();
}

/** Cuts the members into two sides: one node alone (often the leader), or a random split. */
function partition(c: SimCluster): void {
  const all = members(c).map((n) => n.id);
  const groups = new Map<NodeId, number>();
  if (c.rng.chance(0.5)) {
    const alone = c.rng.chance(0.5) ? (c.leader()?.id ?? c.pick(all)) : c.pick(all);
    if (alone !== undefined) groups.set(alone, 1);
  } else {
    for (const id of all) groups.set(id, c.rng.int(2));
  }
  c.network.partition(groups);
  c.stats.partitions++;
  c.log(`sim: partition ${c.network.describePartition()}`);
}

/**
 * One membership step at the leader, cycling the cluster through etcd's single changes: add a
 * learner (a brand-new member), promote it, then remove some voter (maybe the leader itself).
 */
function changeMembership(c: SimCluster): void {
  const leader = c.leader();
  if (leader === undefined) return;
  const cs = leader.raw!.raft.prs.confState();
  if (cs.learners.length > 0) {
    const id = cs.learners[0]!;
    c.log(`sim: propose promote ${id}`);
    leader.raw!.proposeConfChange({ type: "addNode", nodeId: id });
  } else if (cs.voters.length > c.options.members) {
    const id = c.pick(cs.voters)!;
    c.log(`sim: propose remove ${id}`);
    leader.raw!.proposeConfChange({ type: "removeNode", nodeId: id });
  } else {
    const joining = [...c.nodes.values()].find(
      (n) => !n.removed && !cs.voters.includes(n.id) && n.storage.lastIndex() === 0,
    );
    const id = joining?.id ?? c.newNodeId();
    c.startNewNode(id);
    c.log(`sim: propose add learner ${id}`);
    leader.raw!.proposeConfChange({ type: "addLearner", nodeId: id });
  }
  c.stats.confChanges++;
}

function transferLeadership(c: SimCluster): void {
  const leader = c.leader();
  if (leader === undefined) return;
  const target = c.pick(leader.raw!.raft.prs.voters.filter((id) => id !== leader.id));
  if (target === undefined) return;
  c.log(`sim: transfer leadership ${leader.id} -> ${target}`);
  leader.raw!.transferLeader(target);
  c.stats.transfers++;
}

/** Draws new network fault rates: calm spells and stormy ones alternate. */
function redrawFaults(c: SimCluster): void {
  const stormy = c.rng.chance(0.5);
  c.network.faults = {
    drop: stormy ? c.rng.float() * 0.2 : c.rng.float() * 0.02,
    duplicate: c.rng.float() * 0.05,
    longDelay: stormy ? c.rng.float() * 0.1 : 0,
    maxDelay: 10 + c.rng.int(50),
  };
}
