import type { MemberIdentity } from "../member/identity.js";
import { type MembersAnswer, queryMembers } from "../peer/members-query.js";
import type { Leadership } from "../proposal/proposer.js";
import type { Member } from "./membership.js";

/** How long each other member's peer URL gets to answer the members query. */
const MEMBERS_QUERY_TIMEOUT_MS = 2_000;

/** What a joining member learns from the cluster it joins. */
export interface JoinedCluster {
  /** This member's id (given by MemberAdd) and the cluster's id. */
  identity: MemberIdentity;
  /** The member table of a running member, this member included. */
  members: readonly Member[];
}

/**
 * etcd's join of an existing cluster (`--initial-cluster-state=existing`, first start): asks the
 * other members of `--initial-cluster` (`local`, this member named `name`) for the member table,
 * checks that `local` names exactly its members (etcd's ValidateClusterAndAssignIDs) and that
 * this member was added but has not started yet, and takes this member's id and the cluster id
 * from the answer. Throws etcd's error text.
 */
export async function joinExistingCluster(
  local: readonly Member[],
  name: string,
  query: (urls: readonly string[], timeoutMs: number) => Promise<MembersAnswer> = queryMembers,
): Promise<JoinedCluster> {
  const remoteUrls = local
    .filter((member) => member.name !== name)
    .flatMap((member) => member.peerUrls)
    .sort();
  let existing: MembersAnswer;
  try {
    existing = await query(remoteUrls, MEMBERS_QUERY_TIMEOUT_MS);
  } catch {
    throw new Error(
      "cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs",
    );
  }
  const ids = assignIds(local, existing);
  const self = local.find((member) => member.name === name) as Member;
  const memberId = ids.get(self) as bigint;
  const added = existing.members.find((member) => member.id === memberId) as Member;
  if (added.name !== "" || added.clientUrls.length > 0) {
    throw new Error(`member ${memberId.toString(16)} has already been bootstrapped`);
  }
  return { identity: { memberId, clusterId: existing.clusterId }, members: existing.members };
}

/**
 * etcd's ValidateClusterAndAssignIDs: every existing member's peer URLs must equal one local
 * member's (compared sorted, host names as written); the local members take the existing ids.
 */
function assignIds(local: readonly Member[], existing: MembersAnswer): Map<Member, bigint> {
  const fail = (reason: string) =>
    new Error(`error validating peerURLs ${describeCluster(existing)}: ${reason}`);
  if (existing.members.length !== local.length) throw fail("member count is unequal");
  const ids = new Map<Member, bigint>();
  for (const member of existing.members) {
    let lastError = "<nil>";
    const match = local.find((candidate) => {
      lastError = urlMismatch(member.peerUrls, candidate.peerUrls) ?? "<nil>";
      return lastError === "<nil>";
    });
    if (match === undefined) {
      throw fail(
        `PeerURLs: no match found for existing member (${member.id.toString(16)}, [${member.peerUrls.join(" ")}]), last resolver error (${lastError})`,
      );
    }
    ids.set(match, member.id);
  }
  return ids;
}

/** Why two URL lists differ, as etcd's URLStringsEqual says it, or undefined when they are equal. */
function urlMismatch(a: readonly string[], b: readonly string[]): string | undefined {
  const quote = (list: readonly string[]) => `[${list.map((url) => JSON.stringify(url)).join(" ")}]`;
  if (a.length !== b.length) return `len(${quote(a)}) != len(${quote(b)})`;
  const [sortedA, sortedB] = [[...a].sort(), [...b].sort()];
  const i = sortedA.findIndex((url, j) => url !== sortedB[j]);
  return i < 0 ? undefined : `resolved urls: ${JSON.stringify(sortedA[i])} != ${JSON.stringify(sortedB[i])}`;
}

/** etcd's RaftCluster.String() of a cluster read from a remote member (no removed ids known). */
function describeCluster(cluster: MembersAnswer): string {
  const members = cluster.members.map(
    (m) =>
      `&{ID:${m.id.toString(16)} RaftAttributes:{PeerURLs:[${m.peerUrls.join(" ")}] IsLearner:${m.isLearner}} Attributes:{Name:${m.name} ClientURLs:[${m.clientUrls.join(" ")}]}}`,
  );
  return `{ClusterID:${cluster.clusterId.toString(16)} Members:[${members.join(" ")}] RemovedMemberIDs:[]}`;
}

/** Resolves once the member knows a leader (a joining member serves only then). */
export function leaderKnown(leader: {
  readonly leader: Leadership;
  onLeaderChange(listener: (leadership: Leadership) => void): void;
}): Promise<void> {
  if (leader.leader.lead !== 0n) return Promise.resolve();
  return new Promise((resolve) =>
    leader.onLeaderChange((leadership) => {
      if (leadership.lead !== 0n) resolve();
    }),
  );
}
