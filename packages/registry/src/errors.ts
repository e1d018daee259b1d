import { status } from "@grpc/grpc-js";

/**
 * Why a registry call failed, as a closed set of names a program can switch on:
 * - `badRequest`: invalid input (service name, instance id, address, metadata over its limit, TTL
 *   out of range, unknown picker), refused before anything is written;
 * - `closed`: the registration or discovery was closed;
 * - `corrupt`: a value under the registry prefix is not a registry instance (reported as an
 *   `error` event by discovery, which skips the key).
 * Transport failures of the underlying calls are not wrapped: they surface as the client's
 * `KeywayError`.
 */
export type RegistryErrorReason = "badRequest" | "closed" | "corrupt";

const CODES: Record<RegistryErrorReason, status> = {
  badRequest: status.INVALID_ARGUMENT,
  closed: status.CANCELLED,
  corrupt: status.DATA_LOSS,
};

/**
 * The one error class of `@keyway/registry`, in the style of the client's `KeywayError`: `code`
 * is the gRPC status a server would have used, `reason` a typed name, the cause (if any) is the
 * standard `cause`.
 */
export class RegistryError extends Error {
  override readonly name = "RegistryError";
  readonly code: status;
  readonly reason: RegistryErrorReason;

  constructor(reason: RegistryErrorReason, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.reason = reason;
    this.code = CODES[reason];
  }

  /** True when `err` is a RegistryError with one of the given reasons (any reason if none given). */
  static is(err: unknown, ...reasons: RegistryErrorReason[]): err is RegistryError {
    return err instanceof RegistryError && (reasons.length === 0 || reasons.includes(err.reason));
  }
}

/** A `badRequest` error. */
export function badRequest(message: string): RegistryError {
  return new RegistryError("badRequest", message);
}
