import { etcdserverpb } from "@keyway/api";
import { fillHeader, type HeaderSource } from "./header.js";
import { type ServiceHandlers, unary } from "./unary.js";

/** This member as MemberList shows it. */
export interface SelfMember {
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

/**
 * etcd's Cluster service for a one-member cluster: MemberList. Membership changes need Raft and
 * answer UNIMPLEMENTED until it is wired in.
 */
export function clusterService(
  header: HeaderSource,
  self: SelfMember,
): ServiceHandlers<etcdserverpb.ClusterServer, "memberList"> {
  return {
    memberList: unary(() =>
      etcdserverpb.MemberListResponse.fromPartial({
        // etcd's Cluster service leaves the revision out of its headers.
        header: { ...fillHeader(header, undefined), revision: 0n },
        members: [
          {
            ID: header.memberId,
            name: self.name,
            peerURLs: self.peerUrls,
            clientURLs: self.clientUrls,
            isLearner: false,
          },
        ],
      }),
    ),
  };
}
