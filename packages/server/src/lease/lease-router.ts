import { etcdserverpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";
import type { Lessor } from "./lessor.js";

/** Peer request kinds the leader serves for its followers. */
export const LEASE_RENEW = "lease.renew";
export const LEASE_TIME_TO_LIVE = "lease.timeToLive";

/** Asks the leader (a peer request); rejects when it cannot be reached in time. */
export type ForwardToLeader = (leader: bigint, kind: string, payload: Uint8Array) => Promise<Uint8Array>;

/** Where lease questions go: the lessor when this member leads, else the leader. */
export interface LeaseRouterDeps {
  lessor: Lessor;
  /** The leader's id (0n: none) and whether it is this member. */
  leader(): { lead: bigint; isLeader: boolean };
  forward: ForwardToLeader;
  /** Answers a TimeToLive from the local lessor and applied state (on the leader). */
  localTimeToLive(request: etcdserverpb.LeaseTimeToLiveRequest): etcdserverpb.LeaseTimeToLiveResponse;
}

/**
 * Only the leader keeps lease time, so a keep-alive or a TimeToLive that reaches a follower is
 * forwarded to the leader, as etcd's followers do over their peer HTTP API. Without a leader the
 * call fails with `no leader`; an unreachable leader gives `request timed out` (the client retries,
 * possibly on another member).
 */
export class LeaseRouter {
  constructor(private readonly deps: LeaseRouterDeps) {}

  /** Renews a lease; its TTL in seconds, 0 for an unknown or expired lease. */
  async renew(id: bigint): Promise<number> {
    const { lead, isLeader } = this.deps.leader();
    if (isLeader) return this.deps.lessor.renew(id);
    const request = etcdserverpb.LeaseKeepAliveRequest.encode({ ID: id }).finish();
    const answer = await this.ask(lead, LEASE_RENEW, request);
    return Number(etcdserverpb.LeaseKeepAliveResponse.decode(answer).TTL);
  }

  /** etcd's LeaseTimeToLive, answered by the leader. */
  async timeToLive(
    request: etcdserverpb.LeaseTimeToLiveRequest,
  ): Promise<etcdserverpb.LeaseTimeToLiveResponse> {
    const { lead, isLeader } = this.deps.leader();
    if (isLeader) return this.deps.localTimeToLive(request);
    const answer = await this.ask(
      lead,
      LEASE_TIME_TO_LIVE,
      etcdserverpb.LeaseTimeToLiveRequest.encode(request).finish(),
    );
    return etcdserverpb.LeaseTimeToLiveResponse.decode(answer);
  }

  /** Serves a follower's forwarded request (this member is asked as the leader). */
  async serve(kind: string, payload: Uint8Array): Promise<Uint8Array> {
    if (!this.deps.leader().isLeader) throw new Error("not the leader");
    if (kind === LEASE_RENEW) {
      const { ID } = etcdserverpb.LeaseKeepAliveRequest.decode(payload);
      const TTL = BigInt(this.deps.lessor.renew(ID));
      return etcdserverpb.LeaseKeepAliveResponse.encode(
        etcdserverpb.LeaseKeepAliveResponse.fromPartial({ ID, TTL }),
      ).finish();
    }
    if (kind === LEASE_TIME_TO_LIVE) {
      const response = this.deps.localTimeToLive(etcdserverpb.LeaseTimeToLiveRequest.decode(payload));
      return etcdserverpb.LeaseTimeToLiveResponse.encode(response).finish();
    }
    throw new Error(`unknown lease request ${kind}`);
  }

  private async ask(lead: bigint, kind: string, payload: Uint8Array): Promise<Uint8Array> {
    if (lead === 0n) throw new EtcdServerError("noLeader");
    try {
      return await this.deps.forward(lead, kind, payload);
    } catch {
      throw new EtcdServerError("timeout");
    }
  }
}
