import type { v3lockpb } from "@keyway/api";
import type { LocalKv } from "../concurrency/local-kv.js";
import { acquireLock } from "../concurrency/mutex.js";
import { callSignal } from "./call-signal.js";
import { fillHeader, type HeaderSource } from "./header.js";
import { type ServiceHandlers, unary } from "./unary.js";
import { asV3ClientError } from "./v3client-error.js";

/** What the Lock service needs from the member. */
export interface LockDeps {
  kv: LocalKv;
  header: HeaderSource;
  /** Grants a lease of `ttlSeconds` when a request names lease 0 (Go's NewSession does that). */
  grantLease(ttlSeconds: number): Promise<bigint>;
}

/** Go `concurrency`'s default session TTL, used for the lease of a Lock or Campaign without one. */
export const DEFAULT_SESSION_TTL_SECONDS = 60;

/**
 * etcd's v3lock service: Lock waits, revision-ordered, for the mutex `name` under the caller's
 * lease with Go `concurrency.Mutex`'s exact key layout; Unlock deletes the key Lock returned.
 */
export function lockService(deps: LockDeps): ServiceHandlers<v3lockpb.LockServer, "lock" | "unlock"> {
  const { kv, header } = deps;
  return {
    lock: unary(async (request, call) => {
      const signal = callSignal(call);
      const held = await sessionLease(deps, request.lease)
        .then((lease) => acquireLock(kv, request.name, lease, signal))
        .catch(asV3ClientError);
      return { header: fillHeader(header, held.header), key: held.key };
    }),
    unlock: unary(async (request) => {
      const response = await kv.delete(request.key).catch(asV3ClientError);
      return { header: fillHeader(header, response.header) };
    }),
  };
}

/** The caller's lease, or (lease 0) a new one with Go's default session TTL, as Go's NewSession does. */
export function sessionLease(deps: LockDeps, lease: bigint): Promise<bigint> {
  return lease === 0n ? deps.grantLease(DEFAULT_SESSION_TTL_SECONDS) : Promise.resolve(lease);
}
