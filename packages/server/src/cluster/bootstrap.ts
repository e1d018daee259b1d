import type { StateMachine } from "../apply/index.js";
import type { MemberIdentity } from "../member/identity.js";
import type { Proposal } from "../proposal/proposer.js";
import { type InitialClusterSettings, type InitialMember, verifyInitialCluster } from "./initial-cluster.js";
import { joinExistingCluster } from "./join.js";
import { computeClusterId, computeMemberId } from "./member-id.js";
import { type Member, sameUrls } from "./membership.js";

/** What the bootstrap needs from the configuration. */
export interface BootstrapSettings extends InitialClusterSettings {
  initialClusterToken: string;
  advertiseClientUrls: readonly string[];
}

/**
 * The members of a new cluster as every member derives them from `--initial-cluster`: named,
 * with their peer URLs, no client URLs until each publishes them, ids from the URLs and the token.
 */
export function initialMembers(initialCluster: readonly InitialMember[], clusterToken: string): Member[] {
  return initialCluster.map(({ name, peerUrls }) => ({
    id: computeMemberId(peerUrls, clusterToken),
    name,
    peerUrls: [...peerUrls].sort(),
    clientUrls: [],
    isLearner: false,
  }));
}

/**
 * This member's identity on its first start (etcd's bootstrap of a new cluster): the flags are
 * checked as etcd checks them, the member id is its own in `--initial-cluster`, the cluster id
 * hashes every initial member's id. A member joining an existing cluster takes both from the
 * member table of a running member (cluster/join.ts).
 */
export async function initialIdentity(settings: BootstrapSettings): Promise<MemberIdentity> {
  verifyInitialCluster(settings);
  const members = initialMembers(settings.initialCluster, settings.initialClusterToken);
  if (settings.initialClusterState === "existing")
    return (await joinExistingCluster(members, settings.name)).identity;
  const local = members.find((member) => member.name === settings.name) as Member;
  return { memberId: local.id, clusterId: computeClusterId(members.map((member) => member.id)) };
}

/**
 * Writes the initial members into a state machine whose member table is empty (the first start
 * of a new cluster, or a restart after a crash before that write was committed), and commits.
 * A joining member writes the table of the cluster it joins (asked again: it may have changed
 * since the identity was made), so its peer link can reach the others; the leader's snapshot
 * replaces it. This member must be one of them: a data dir whose identity is not in the table
 * (made by another configuration) is refused rather than given a table that does not name it.
 */
export async function bootstrapMembers(
  stateMachine: StateMachine,
  settings: BootstrapSettings,
  identity: MemberIdentity,
): Promise<void> {
  if (stateMachine.members().length > 0) return;
  const initial = initialMembers(settings.initialCluster, settings.initialClusterToken);
  const members =
    settings.initialClusterState === "new"
      ? initial
      : (await joinExistingCluster(initial, settings.name)).members;
  if (!members.some((member) => member.id === identity.memberId)) {
    throw new Error(
      `member ${identity.memberId.toString(16)} of the data dir is not in --initial-cluster (the data dir was made with other flags)`,
    );
  }
  stateMachine.bootstrapMembers(members);
  await stateMachine.commit();
}

/**
 * etcd's publish: a started member announces its name and client URLs through the log, so
 * every member's MemberList shows them. Proposed only when the table does not already say so
 * (etcd publishes on every start; skipping an unchanged publish keeps restarts from growing
 * the log).
 */
export async function publishAttributes(
  stateMachine: StateMachine,
  propose: (request: Proposal) => Promise<{ ok: boolean; error?: Error }>,
  identity: MemberIdentity,
  settings: Pick<BootstrapSettings, "name" | "advertiseClientUrls">,
): Promise<void> {
  const self = stateMachine.members().find((member) => member.id === identity.memberId);
  const clientUrls = [...settings.advertiseClientUrls];
  if (self === undefined || (self.name === settings.name && sameUrls(self.clientUrls, clientUrls))) return;
  const outcome = await propose({
    $case: "memberAttrSet",
    memberAttrSet: { memberId: identity.memberId, name: settings.name, clientUrls },
  });
  if (!outcome.ok) throw outcome.error ?? new Error("publishing the member's attributes failed");
}
