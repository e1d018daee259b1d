import type { ApplyOutcome, ApplyResponse } from "../apply/index.js";

/** The response of an applied entry, or its etcd error thrown for the RPC layer to map. */
export function expectOk(outcome: ApplyOutcome): ApplyResponse {
  if (!outcome.ok) throw outcome.error;
  return outcome.response;
}
