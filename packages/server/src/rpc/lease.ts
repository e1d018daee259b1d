import type { ServerDuplexStream } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import type { StateMachine } from "../apply/index.js";
import { EtcdServerError } from "../errors.js";
import type { LeaseRouter } from "../lease/lease-router.js";
import type { Lessor } from "../lease/lessor.js";
import type { IdGenerator } from "../member/id-generator.js";
import type { Proposer } from "../proposal/proposer.js";
import { toServiceError } from "./errors.js";
import { fillHeader, type HeaderSource } from "./header.js";
import { LeaderMonitor } from "./leader-monitor.js";
import { expectOk } from "./outcome.js";
import { unary } from "./unary.js";

/** What the Lease service needs from the member. */
export interface LeaseDeps {
  stateMachine: StateMachine;
  proposer: Proposer;
  lessor: Lessor;
  /** Keep-alives and TimeToLive: answered here on the leader, forwarded to it elsewhere. */
  router: LeaseRouter;
  /** Refuses and cancels keep-alive streams that ask for a leader while the member has none. */
  leader: LeaderMonitor;
  ids: IdGenerator;
  header: HeaderSource;
}

/**
 * etcd's Lease service: grant and revoke are log entries (through the proposer); keep-alive and
 * time-to-live are answered by the leader's lessor (forwarded there from a follower), the list
 * from the lessor on the leader and from the applied state elsewhere.
 */
export function leaseService(deps: LeaseDeps): etcdserverpb.LeaseServer {
  const { stateMachine, proposer, lessor, router, header } = deps;
  const head = () => fillHeader(header, undefined);
  return {
    leaseGrant: unary(async (request) => {
      const response = await proposeGrant(deps, request.ID, request.TTL);
      response.header = fillHeader(header, response.header);
      return response;
    }),
    leaseRevoke: unary(async (request) => {
      const outcome = await proposer.propose({ $case: "leaseRevoke", leaseRevoke: { ID: request.ID } });
      const response = expectOk(outcome) as etcdserverpb.LeaseRevokeResponse;
      response.header = fillHeader(header, response.header);
      return response;
    }),
    leaseTimeToLive: unary(async (request) => {
      const response = await router.timeToLive(request);
      response.header = head();
      return response;
    }),
    leaseLeases: unary(() => {
      const ids = lessor.isPrimary ? lessor.list() : stateMachine.allLeases().map((lease) => lease.id);
      return etcdserverpb.LeaseLeasesResponse.fromPartial({
        header: head(),
        leases: ids.map((ID) => ({ ID })),
      });
    }),
    leaseKeepAlive: (call) => keepAlive(call, router, deps.leader, head),
  };
}

/**
 * etcd's TimeToLive from the leader's lessor and the applied state. An unknown lease answers
 * TTL -1, not an error (etcd's LeaseServer turns not-found into this).
 */
export function localTimeToLive(
  stateMachine: StateMachine,
  lessor: Lessor,
  request: etcdserverpb.LeaseTimeToLiveRequest,
): etcdserverpb.LeaseTimeToLiveResponse {
  const lease = stateMachine.lease(request.ID);
  const remaining = lessor.remainingSeconds(request.ID);
  if (lease === undefined || remaining === undefined) {
    return etcdserverpb.LeaseTimeToLiveResponse.fromPartial({ ID: request.ID, TTL: -1n });
  }
  return etcdserverpb.LeaseTimeToLiveResponse.fromPartial({
    ID: request.ID,
    TTL: BigInt(remaining),
    grantedTTL: BigInt(lease.ttlSeconds),
    // etcd lists them in Go map order; sorted here, so the answer is stable.
    keys: request.keys ? [...lease.keys].sort().map((key) => Buffer.from(key, "latin1")) : [],
  });
}

/**
 * Grants a lease through the log. ID 0 lets the server choose; the id is chosen before proposing,
 * so apply stays deterministic.
 */
export async function proposeGrant(
  deps: Pick<LeaseDeps, "stateMachine" | "proposer" | "ids">,
  ID: bigint,
  TTL: bigint,
): Promise<etcdserverpb.LeaseGrantResponse> {
  const leaseGrant = { ID: ID === 0n ? freeLeaseId(deps) : ID, TTL };
  return expectOk(
    await deps.proposer.propose({ $case: "leaseGrant", leaseGrant }),
  ) as etcdserverpb.LeaseGrantResponse;
}

/** A server-chosen id that no lease has (a clash needs a restart within the same ms window). */
function freeLeaseId(deps: Pick<LeaseDeps, "stateMachine" | "ids">): bigint {
  let id = deps.ids.next();
  while (deps.stateMachine.lease(id) !== undefined) id = deps.ids.next();
  return id;
}

/**
 * One keep-alive stream: each request renews its lease and gets `{header, ID, TTL}`; TTL 0 for
 * an unknown or expired lease. Requests are answered in order, also when forwarded to the leader.
 * The header is taken before the renew, as etcd does, so a revoke's revision is never hidden
 * behind a successful renewal. A client that stops reading stops being read: no responses pile
 * up beyond the stream's buffer. A renew that cannot reach a leader ends the stream with etcd's
 * error (`no leader`, `request timed out`).
 */
function keepAlive(
  call: ServerDuplexStream<etcdserverpb.LeaseKeepAliveRequest, etcdserverpb.LeaseKeepAliveResponse>,
  router: LeaseRouter,
  leader: LeaderMonitor,
  head: () => etcdserverpb.ResponseHeader,
): void {
  let paused = false;
  let failed = false;
  let answered: Promise<void> = Promise.resolve();
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    call.emit("error", toServiceError(error));
  };
  if (LeaderMonitor.requiresLeader(call.metadata)) {
    if (!leader.hasLeader()) {
      fail(new EtcdServerError("noLeader"));
      return;
    }
    const untrack = leader.track(() => fail(new EtcdServerError("noLeader")));
    call.on("close", untrack);
  }
  const answer = async (request: etcdserverpb.LeaseKeepAliveRequest) => {
    if (failed) return;
    const header = head();
    let TTL: bigint;
    try {
      TTL = BigInt(await router.renew(request.ID));
    } catch (error) {
      fail(error);
      return;
    }
    if (call.write({ header, ID: request.ID, TTL }) || paused) return;
    paused = true;
    call.pause();
    call.once("drain", () => {
      paused = false;
      call.resume();
    });
  };
  call.on("data", (request: etcdserverpb.LeaseKeepAliveRequest) => {
    answered = answered.then(() => answer(request));
  });
  call.on("end", () => {
    void answered.then(() => call.end());
  });
  // A cut stream needs no answer; grpc-js reports it here instead of throwing.
  call.on("error", () => undefined);
}
