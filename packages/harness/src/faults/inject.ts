import type { Rng } from "@keyway/raft";
import type { Cluster, Direction } from "../cluster/types.js";
import { findLeader } from "./leader.js";
import { type FaultKind, type FaultLog, NETWORK_FAULTS } from "./types.js";

/** Undoes one injected fault. */
export type Heal = () => Promise<void>;

const others = (cluster: Cluster, members: readonly number[]) =>
  cluster.members.map((_, i) => i).filter((i) => !members.includes(i));

/** Cuts `members` from every other member, both directions, and logs it. */
async function isolate(
  cluster: Cluster,
  members: readonly number[],
  why: string,
  log: FaultLog,
): Promise<Heal> {
  const peers = others(cluster, members);
  for (const member of members) {
    await cluster.dropPeers(member, peers, "in");
    await cluster.dropPeers(member, peers, "out");
  }
  log({ action: "partition", members, detail: `${why}; cut from ${peers.join(",")} both ways` });
  return healNetwork(cluster, log);
}

function healNetwork(cluster: Cluster, log: FaultLog): Heal {
  return async () => {
    await cluster.heal();
    log({ action: "heal", members: cluster.members.map((_, i) => i) });
  };
}

/** `count` distinct members drawn from `random`. */
function drawMembers(cluster: Cluster, count: number, random: Rng): number[] {
  const pool = cluster.members.map((_, i) => i);
  const drawn: number[] = [];
  while (drawn.length < count && pool.length > 0) drawn.push(...pool.splice(random.int(pool.length), 1));
  return drawn;
}

/**
 * Injects one fault of `kind` into the cluster, choosing its victims with `random`, logs what it
 * did, and returns what heals it. `none` does nothing. Network faults need at least 2 members.
 */
export async function injectFault(
  cluster: Cluster,
  kind: FaultKind,
  random: Rng,
  log: FaultLog,
): Promise<Heal> {
  const size = cluster.members.length;
  if (NETWORK_FAULTS.has(kind) && size < 2)
    throw new Error(`fault ${kind} needs peers; the cluster has 1 member`);
  switch (kind) {
    case "none":
      return async () => undefined;
    case "kill": {
      const [victim = 0] = drawMembers(cluster, 1, random);
      await cluster.kill(victim);
      log({ action: "kill", members: [victim], detail: "SIGKILL" });
      return async () => {
        await cluster.restart(victim);
        log({ action: "restart", members: [victim] });
      };
    }
    case "pause": {
      const [victim = 0] = drawMembers(cluster, 1, random);
      await cluster.pause(victim);
      log({ action: "pause", members: [victim] });
      return async () => {
        await cluster.resume(victim);
        log({ action: "resume", members: [victim] });
      };
    }
    case "partition-leader":
      return isolate(cluster, [await findLeader(cluster)], "the leader", log);
    case "partition-split":
      return isolate(cluster, drawMembers(cluster, Math.floor((size - 1) / 2), random), "a minority", log);
    case "one-way": {
      const [victim = 0] = drawMembers(cluster, 1, random);
      const direction: Direction = random.int(2) === 0 ? "in" : "out";
      const peers = others(cluster, [victim]);
      await cluster.dropPeers(victim, peers, direction);
      log({
        action: `drop-${direction}`,
        members: [victim],
        detail: `peer traffic ${direction} from/to ${peers.join(",")}`,
      });
      return healNetwork(cluster, log);
    }
  }
}
