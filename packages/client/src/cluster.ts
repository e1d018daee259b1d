import { etcdserverpb } from "@keyway/api";
import type { CallOptions } from "./call-options.js";
import { badRequest } from "./errors.js";
import { uint64 } from "./keys.js";
import type { Transport } from "./transport.js";

const CLUSTER = etcdserverpb.ClusterService;

/** One cluster member. */
export interface Member {
  id: bigint;
  /** Empty for a member that was added but has not started yet. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

function toMember(m: etcdserverpb.Member): Member {
  return { id: m.ID, name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs, isLearner: m.isLearner };
}

function memberId(id: bigint): bigint {
  const value = uint64(id, "member id");
  if (value === 0n) throw badRequest("member id must not be 0");
  return value;
}

function peerUrls(urls: readonly string[]): string[] {
  if (!Array.isArray(urls) || urls.length === 0 || urls.some((u) => typeof u !== "string" || u === "")) {
    throw badRequest("peerUrls must be a non-empty list of URLs");
  }
  return [...urls];
}

/** Cluster membership calls. MemberList is retried on UNAVAILABLE; changes are never resent. */
export class ClusterClient {
  constructor(private readonly transport: Transport) {}

  /** Every member (learners included). */
  async memberList(options: CallOptions & { linearizable?: boolean } = {}): Promise<Member[]> {
    const { linearizable = false, ...call } = options;
    const response = await this.transport.unary(CLUSTER.memberList, { linearizable }, "safe", call);
    return response.members.map(toMember);
  }

  /** Adds a member (or a learner) and returns it with the new member list. */
  async memberAdd(
    urls: readonly string[],
    options: CallOptions & { isLearner?: boolean } = {},
  ): Promise<{ member: Member | undefined; members: Member[] }> {
    const { isLearner = false, ...call } = options;
    const request = { peerURLs: peerUrls(urls), isLearner };
    const response = await this.transport.unary(CLUSTER.memberAdd, request, "unsafe", call);
    return {
      member: response.member === undefined ? undefined : toMember(response.member),
      members: response.members.map(toMember),
    };
  }

  /** Removes a member; returns the remaining members. */
  async memberRemove(id: bigint, options: CallOptions = {}): Promise<Member[]> {
    const response = await this.transport.unary(
      CLUSTER.memberRemove,
      { ID: memberId(id) },
      "unsafe",
      options,
    );
    return response.members.map(toMember);
  }

  /** Changes a member's peer URLs. */
  async memberUpdate(id: bigint, urls: readonly string[], options: CallOptions = {}): Promise<Member[]> {
    const request = { ID: memberId(id), peerURLs: peerUrls(urls) };
    const response = await this.transport.unary(CLUSTER.memberUpdate, request, "unsafe", options);
    return response.members.map(toMember);
  }

  /** Promotes a learner that caught up with the leader to a voting member. */
  async memberPromote(id: bigint, options: CallOptions = {}): Promise<Member[]> {
    const response = await this.transport.unary(
      CLUSTER.memberPromote,
      { ID: memberId(id) },
      "unsafe",
      options,
    );
    return response.members.map(toMember);
  }
}
