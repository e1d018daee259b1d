import { KeywayError, type KeywayErrorReason } from "@keyway/client";
import type { Outcome } from "../history/types.js";

/**
 * Reasons that prove a call took no effect: refused by the client before sending, or refused by
 * etcd before the apply (validation, a missing lease, a compacted or future revision, auth,
 * size and rate limits). Everything else (timeouts, lost connections, leader changes, "no
 * leader", errors we cannot name) may hide an applied write and is `unknown`, unless the client
 * says no attempt of the write was sent (`notSent`: it could connect to no endpoint).
 */
const CERTAINLY_NOT_APPLIED: ReadonlySet<KeywayErrorReason> = new Set<KeywayErrorReason>([
  "badRequest",
  "emptyKey",
  "keyNotFound",
  "valueProvided",
  "leaseProvided",
  "tooManyOps",
  "duplicateKey",
  "invalidSortOption",
  "compacted",
  "futureRev",
  "leaseNotFound",
  "leaseTTLTooLarge",
  "requestTooLarge",
  "tooManyRequests",
  "permissionDenied",
  "invalidAuthToken",
  "authOldRevision",
]);

/** The outcome of a call that threw `error`. */
export function classifyError(error: unknown): Outcome {
  const err = KeywayError.from(error);
  const text = `${err.reason}: ${err.message}`;
  return err.notSent || CERTAINLY_NOT_APPLIED.has(err.reason)
    ? { status: "failed", error: text }
    : { status: "unknown", error: text };
}
