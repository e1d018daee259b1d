import type { ServerWritableStream } from "@grpc/grpc-js";
import type { v3electionpb } from "@keyway/api";
import { campaign, currentLeader, ElectionErrors, proclaim, resign } from "../concurrency/election.js";
import { observeLeaders } from "../concurrency/observe.js";
import { callSignal } from "./call-signal.js";
import { toServiceError } from "./errors.js";
import { fillHeader } from "./header.js";
import { type LockDeps, sessionLease } from "./lock.js";
import { type ServiceHandlers, unary } from "./unary.js";
import { asV3ClientError } from "./v3client-error.js";

/** What the Election service needs from the member: the same as the Lock service. */
export type ElectionDeps = LockDeps;

/**
 * etcd's v3election service, with Go `concurrency.Election`'s key layout and semantics, so
 * `etcdctl elect` and Go services take part in the same elections as its callers.
 */
export function electionService(
  deps: ElectionDeps,
): ServiceHandlers<v3electionpb.ElectionServer, "campaign" | "proclaim" | "leader" | "observe" | "resign"> {
  const { kv, header } = deps;
  const requireLeader = (leader: v3electionpb.LeaderKey | undefined): v3electionpb.LeaderKey => {
    if (leader === undefined) throw new Error(ElectionErrors.missingLeaderKey);
    return leader;
  };
  return {
    campaign: unary(async (request, call) => {
      const signal = callSignal(call);
      const response = await sessionLease(deps, request.lease)
        .then((lease) => campaign(kv, { ...request, lease }, signal))
        .catch(asV3ClientError);
      return { ...response, header: fillHeader(header, response.header) };
    }),
    proclaim: unary(async (request) => {
      const leader = requireLeader(request.leader);
      const revision = await proclaim(kv, leader, request.value).catch(asV3ClientError);
      return { header: fillHeader(header, revision) };
    }),
    resign: unary(async (request) => {
      const leader = requireLeader(request.leader);
      return { header: fillHeader(header, await resign(kv, leader).catch(asV3ClientError)) };
    }),
    leader: unary((request) => {
      const response = currentLeader(kv, request.name);
      return { ...response, header: fillHeader(header, response.header) };
    }),
    observe: (call: ServerWritableStream<v3electionpb.LeaderRequest, v3electionpb.LeaderResponse>) => {
      streamLeaders(deps, call).catch((error: unknown) => {
        if (!call.cancelled) call.emit("error", toServiceError(error));
      });
    },
  };
}

async function streamLeaders(
  deps: ElectionDeps,
  call: ServerWritableStream<v3electionpb.LeaderRequest, v3electionpb.LeaderResponse>,
): Promise<void> {
  const signal = callSignal(call);
  for await (const response of observeLeaders(deps.kv, call.request.name, signal)) {
    const written = call.write({ ...response, header: fillHeader(deps.header, response.header) });
    if (!written) await drained(call, signal);
  }
}

/** Resolves when a backed-up stream drains, or when the call is cancelled. */
function drained(call: ServerWritableStream<unknown, unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    call.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}
