import { EtcdServerError } from "../errors.js";
import type { Leadership } from "../proposal/proposer.js";

/** The peer request a member sends the leader to ask whether a learner may be promoted. */
export const LEARNER_READY = "member.learnerReady";

/** etcd's readyPercent: a learner whose log matches 90% of the leader's may be promoted. */
const READY_PERCENT = 0.9;

/** What the check needs from the member's Raft node. */
export interface ReadinessSource {
  readonly leader: Leadership;
  replicationOf(id: bigint): { match: number; leaderMatch: number } | undefined;
}

/**
 * etcd's isLearnerReady, on the leader: a learner whose log lags the leader's is not promoted
 * (`learnerNotReady`). An id Raft does not track passes, so the member table gives its error.
 */
export function leaderCheckLearner(raft: ReadinessSource, id: bigint): void {
  if (!raft.leader.isLeader) throw new Error("not the leader");
  const replication = raft.replicationOf(id);
  if (replication !== undefined && replication.match < replication.leaderMatch * READY_PERCENT)
    throw new EtcdServerError("learnerNotReady");
}

/**
 * The check before a MemberPromote: only the leader knows how far the learner is, so a follower
 * asks it over the peer link (etcd forwards the promote to the leader).
 */
export async function checkLearnerReady(
  raft: ReadinessSource,
  ask: (leader: bigint, kind: string, payload: Uint8Array) => Promise<Uint8Array>,
  id: bigint,
): Promise<void> {
  if (raft.leader.isLeader) return leaderCheckLearner(raft, id);
  if (raft.leader.lead === 0n) throw new EtcdServerError("noLeader");
  const answer = await ask(raft.leader.lead, LEARNER_READY, encodeId(id));
  if (answer[0] !== 1) throw new EtcdServerError("learnerNotReady");
}

/** Serves a follower's {@link LEARNER_READY} request on the leader: 1 when ready, 0 when not. */
export function serveLearnerReady(raft: ReadinessSource, payload: Uint8Array): Uint8Array {
  if (payload.length !== 8) throw new Error("a learner readiness request carries one member id");
  try {
    leaderCheckLearner(raft, Buffer.from(payload).readBigUInt64BE(0));
    return Uint8Array.of(1);
  } catch (error) {
    if (error instanceof EtcdServerError) return Uint8Array.of(0);
    throw error;
  }
}

function encodeId(id: bigint): Uint8Array {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(id);
  return bytes;
}
