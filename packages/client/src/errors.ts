import { status } from "@grpc/grpc-js";
import { type EtcdErrorReason, etcdErrorReason } from "@keyway/api";

/**
 * Why a call failed, as a closed set of names a program can switch on.
 * - every {@link EtcdErrorReason} (`compacted`, `futureRev`, `leaseNotFound`, ...): etcd's own errors,
 *   classified by gRPC code plus the exact message (never by substring);
 * - `badRequest`: the client refused invalid input before sending anything;
 * - `unavailable`: no endpoint could be reached (transport failure);
 * - `timeout`: the call's `timeoutMs` deadline passed;
 * - `aborted`: the call's `signal` was aborted;
 * - `closed`: the client, watcher or session was closed;
 * - `leaseLost`: a kept-alive lease expired, was revoked or was not renewed within its TTL;
 * - `watchCanceled`: the server canceled a watch for a reason other than compaction;
 * - `unknown`: anything else (the gRPC code and message are kept).
 */
export type KeywayErrorReason =
  | EtcdErrorReason
  | "badRequest"
  | "unavailable"
  | "timeout"
  | "aborted"
  | "closed"
  | "leaseLost"
  | "watchCanceled"
  | "unknown";

/** Fields that describe a {@link KeywayError}. */
export interface KeywayErrorInit {
  /** gRPC status code; client-side errors use the code a server would have used. */
  code: status;
  reason: KeywayErrorReason;
  message: string;
  /** For `compacted` watch errors and compacted reads: the compaction revision, when known. */
  compactRevision?: bigint;
  /** The call was never sent (see {@link KeywayError.notSent}). */
  notSent?: boolean;
  cause?: unknown;
}

/**
 * The one error class of the Keyway client. `code` is the gRPC status, `reason` a typed name
 * (see {@link KeywayErrorReason}); the original error, if any, is the standard `cause`.
 */
export class KeywayError extends Error {
  override readonly name = "KeywayError";
  readonly code: status;
  readonly reason: KeywayErrorReason;
  /** Set on `compacted` errors raised by a watch: the first revision still available. */
  readonly compactRevision: bigint | undefined;
  /**
   * True when a write failed before any attempt of it was sent (no endpoint could be connected),
   * so it certainly took no effect; false when it may or may not have been applied.
   */
  readonly notSent: boolean;

  constructor(init: KeywayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.reason = init.reason;
    this.compactRevision = init.compactRevision;
    this.notSent = init.notSent ?? false;
  }

  /** True when `err` is a KeywayError with one of the given reasons. */
  static is(err: unknown, ...reasons: KeywayErrorReason[]): err is KeywayError {
    return err instanceof KeywayError && (reasons.length === 0 || reasons.includes(err.reason));
  }

  /**
   * Turns anything thrown by grpc-js or by our own code into a KeywayError: server errors are
   * classified by code plus exact message through the table in `@keyway/api`.
   */
  static from(err: unknown): KeywayError {
    if (err instanceof KeywayError) return err;
    if (isServiceError(err)) {
      const details = err.details;
      const etcdReason = etcdErrorReason(err.code, details);
      if (etcdReason !== undefined) {
        return new KeywayError({ code: err.code, reason: etcdReason, message: details, cause: err });
      }
      return new KeywayError({
        code: err.code,
        reason: transportReason(err.code),
        message: details,
        cause: err,
      });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new KeywayError({ code: status.UNKNOWN, reason: "unknown", message, cause: err });
  }
}

function transportReason(code: number): KeywayErrorReason {
  switch (code) {
    case status.UNAVAILABLE:
      return "unavailable";
    case status.DEADLINE_EXCEEDED:
      return "timeout";
    case status.CANCELLED:
      return "aborted";
    default:
      return "unknown";
  }
}

/** The shape of a grpc-js call error. */
interface ServiceErrorLike {
  code: number;
  details: string;
}

function isServiceError(err: unknown): err is ServiceErrorLike {
  return (
    typeof err === "object" &&
    err !== null &&
    typeof (err as { code?: unknown }).code === "number" &&
    typeof (err as { details?: unknown }).details === "string"
  );
}

/** A client-side validation error: thrown before any request is sent. */
export function badRequest(message: string): KeywayError {
  return new KeywayError({ code: status.INVALID_ARGUMENT, reason: "badRequest", message });
}

/** The error a closed client, watcher or session reports. */
export function closedError(what: string): KeywayError {
  return new KeywayError({ code: status.CANCELLED, reason: "closed", message: `${what} is closed` });
}
