import type { etcdserverpb, v3electionpb } from "@keyway/api";
import type { LocalKv } from "./local-kv.js";
import {
  createRevisionIs,
  deleteOp,
  getOp,
  keyPrefix,
  oldestCreatedRequest,
  putOp,
  rangeKvs,
  sessionKey,
} from "./ops.js";
import { waitDeletes } from "./wait-deletes.js";

/** Go `concurrency`'s errors, which etcd's Election service returns as they are (gRPC UNKNOWN). */
export const ElectionErrors = {
  notLeader: "election: not leader",
  noLeader: "election: no leader",
  missingLeaderKey: '"leader" field must be provided',
} as const;

/**
 * Campaigns in election `name` as Go's `concurrency.Election.Campaign` does: the candidate key
 * `name/<lease hex>` holds `value` under the lease (a session already campaigning keeps its place
 * and proclaims the new value), then waits until every older candidate is gone. When `signal`
 * aborts while waiting, the candidacy is withdrawn.
 */
export async function campaign(
  kv: LocalKv,
  request: v3electionpb.CampaignRequest,
  signal: AbortSignal,
): Promise<v3electionpb.CampaignResponse> {
  const prefix = keyPrefix(request.name);
  const key = sessionKey(prefix, request.lease);
  const response = await kv.txn(
    [createRevisionIs(key, 0n)],
    [putOp({ key, value: request.value, lease: request.lease })],
    [getOp(key)],
  );
  const leader: v3electionpb.LeaderKey = {
    name: request.name,
    key,
    rev: response.header?.revision ?? 0n,
    lease: request.lease,
  };
  const existing = response.succeeded ? undefined : rangeKvs(response, 0)[0];
  if (existing !== undefined) {
    leader.rev = existing.createRevision;
    if (!existing.value.equals(request.value)) {
      try {
        await proclaim(kv, leader, request.value);
      } catch (error) {
        await resign(kv, leader).catch(() => undefined);
        throw error;
      }
    }
  }
  try {
    await waitDeletes(kv, prefix, leader.rev - 1n, signal);
  } catch (error) {
    if (signal.aborted) await resign(kv, leader).catch(() => undefined);
    throw error;
  }
  return { header: response.header, leader };
}

/** Replaces the leader's value, if `leader` still is the key it names (else `election: not leader`). */
export async function proclaim(
  kv: LocalKv,
  leader: v3electionpb.LeaderKey,
  value: Buffer,
): Promise<etcdserverpb.ResponseHeader | undefined> {
  const response = await kv.txn(
    [createRevisionIs(leader.key, leader.rev)],
    [putOp({ key: leader.key, value, ignoreLease: true })],
    [],
  );
  if (!response.succeeded) throw new Error(ElectionErrors.notLeader);
  return response.header;
}

/** Gives up leadership (or candidacy): deletes the key if it is still the one `leader` names. */
export async function resign(
  kv: LocalKv,
  leader: v3electionpb.LeaderKey,
): Promise<etcdserverpb.ResponseHeader | undefined> {
  const response = await kv.txn([createRevisionIs(leader.key, leader.rev)], [deleteOp(leader.key)], []);
  return response.header;
}

/** The current leader's key-value (the oldest candidate), or `election: no leader`. */
export function currentLeader(kv: LocalKv, name: Buffer): v3electionpb.LeaderResponse {
  const response = kv.range(oldestCreatedRequest(keyPrefix(name)));
  const leader = response.kvs[0];
  if (leader === undefined) throw new Error(ElectionErrors.noLeader);
  return { header: response.header, kv: leader };
}
