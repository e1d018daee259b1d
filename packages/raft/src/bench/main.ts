/**
 * `pnpm --filter @keyway/raft run bench`: throughput of the Raft core alone. Three members in one
 * process, no IO: each round the client proposes a batch at the leader, then every member carries
 * out its Readys (persisting to MemoryStorage) and messages are delivered, until the batch is
 * applied. Prints committed entries per second for several batch sizes: the median of `--runs`
 * runs (default 3) of `--seconds S` each (default 2), with `--payload B` bytes per entry (default 128).
 */
import { parseArgs } from "node:util";
import { RawNode } from "../raw-node.js";
import { SeededRng } from "../rng.js";
import { cliArgs } from "../sim/cli-args.js";
import { MemoryStorage } from "../storage.js";
import type { Message, NodeId } from "../types.js";

const IDS: NodeId[] = [1n, 2n, 3n];
/** Keep this many applied entries in memory; compact the rest (bounded memory over long runs). */
const KEEP_ENTRIES = 10_000;

interface Member {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  applied: number;
}

function startCluster(): Map<NodeId, Member> {
  const members = new Map<NodeId, Member>();
  for (const id of IDS) {
    const storage = new MemoryStorage();
    storage.applySnapshot({
      data: new Uint8Array(0),
      metadata: { index: 1, term: 1, confState: { voters: IDS, learners: [] } },
    });
    storage.setHardState({ term: 1, vote: 0n, commit: 1 });
    members.set(id, {
      node: new RawNode({ id, storage, rng: new SeededRng(Number(id)) }),
      storage,
      applied: 1,
    });
  }
  return members;
}

/** One pass: every member handles its Ready; returns the messages they sent. */
function processReadies(members: Map<NodeId, Member>): Message[] {
  const out: Message[] = [];
  for (const m of members.values()) {
    if (!m.node.hasReady()) continue;
    const rd = m.node.ready();
    if (rd.snapshot !== undefined) m.storage.applySnapshot(rd.snapshot);
    m.storage.append(rd.entries);
    if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
    for (const msg of rd.messages) out.push(msg);
    const last = rd.committedEntries[rd.committedEntries.length - 1];
    if (last !== undefined) m.applied = last.index;
    m.node.advance(rd);
    if (m.applied - m.storage.firstIndex() > 2 * KEEP_ENTRIES) {
      m.storage.createSnapshot(m.applied, { voters: IDS, learners: [] }, new Uint8Array(0));
      m.storage.compact(m.applied - KEEP_ENTRIES);
    }
  }
  return out;
}

/** Runs Readys and deliveries until nothing moves. */
function settle(members: Map<NodeId, Member>): void {
  for (;;) {
    const msgs = processReadies(members);
    if (msgs.length === 0 && ![...members.values()].some((m) => m.node.hasReady())) return;
    for (const msg of msgs) members.get(msg.to)!.node.step(msg);
  }
}

function electLeader(members: Map<NodeId, Member>): Member {
  members.get(1n)!.node.campaign();
  settle(members);
  const leader = members.get(1n)!;
  if (leader.node.raft.role !== "leader") throw new Error("no leader");
  return leader;
}

/** Committed entries per second with `batch` proposals per round, for about `seconds`. */
function measure(batch: number, payload: Uint8Array, seconds: number): number {
  const members = startCluster();
  const leader = electLeader(members);
  const start = leader.applied;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    for (let i = 0; i < batch; i++) leader.node.propose(payload);
    settle(members);
    elapsed = performance.now() - t0;
  }
  return ((leader.applied - start) / elapsed) * 1000;
}

function main(): void {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      seconds: { type: "string", default: "2" },
      payload: { type: "string", default: "128" },
      runs: { type: "string", default: "3" },
    },
  });
  const seconds = Number(values.seconds);
  const runs = Number(values.runs);
  const payload = new Uint8Array(Number(values.payload)).fill(0x61);
  console.log(
    `Raft core, 3 members in one process, no IO, ${payload.byteLength}-byte entries, median of ${runs} × ${seconds} s per row`,
  );
  console.log("batch (proposals per round) | committed entries/s (median) | min – max");
  for (const batch of [1, 16, 256, 4096]) {
    const rates = Array.from({ length: runs }, () => measure(batch, payload, seconds)).sort((a, b) => a - b);
    const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
    const median = rates[Math.floor(rates.length / 2)]!;
    console.log(
      `${String(batch).padStart(27)} | ${fmt(median).padStart(28)} | ${fmt(rates[0]!)} – ${fmt(rates[rates.length - 1]!)}`,
    );
  }
}

main();
