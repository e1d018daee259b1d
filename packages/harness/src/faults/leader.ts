import type { Cluster } from "../cluster/types.js";
import { memberStatus } from "../cluster/wait-serving.js";

/** How long {@link findLeader} keeps asking while an election is under way. */
const FIND_LEADER_TIMEOUT_MS = 15_000;

/**
 * The index of the member that leads, by Maintenance.Status: a member whose own id is the leader
 * id it reports — of several (a deposed leader that has not heard of the new term yet), the one
 * of the highest term. Retries while no leader is known (an election in progress).
 */
export async function findLeader(cluster: Cluster): Promise<number> {
  const deadline = Date.now() + FIND_LEADER_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const statuses = await Promise.all(cluster.members.map((m) => memberStatus(m.endpoint, 1_000)));
    let best: { index: number; term: bigint } | undefined;
    for (const [index, status] of statuses.entries()) {
      const leads = status !== undefined && status.leader !== 0n && status.leader === status.header.memberId;
      if (leads && (best === undefined || status.raftTerm > best.term))
        best = { index, term: status.raftTerm };
    }
    if (best !== undefined) return best.index;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no leader found within ${FIND_LEADER_TIMEOUT_MS} ms`);
}
