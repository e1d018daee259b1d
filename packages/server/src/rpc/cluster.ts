import { etcdserverpb } from "@keyway/api";
import { type Member, toPbMember } from "../cluster/membership.js";
import { fillHeader, type HeaderSource } from "./header.js";
import { type ServiceHandlers, unary } from "./unary.js";

/**
 * etcd's Cluster service: MemberList from the replicated member table (learners flagged).
 * Membership changes need Raft and answer UNIMPLEMENTED until it is wired in.
 */
export function clusterService(
  header: HeaderSource,
  members: () => readonly Member[],
): ServiceHandlers<etcdserverpb.ClusterServer, "memberList"> {
  return {
    memberList: unary(() =>
      etcdserverpb.MemberListResponse.fromPartial({
        // etcd's Cluster service leaves the revision out of its headers.
        header: { ...fillHeader(header, undefined), revision: 0n },
        members: members().map(toPbMember),
      }),
    ),
  };
}
