import { status } from "@grpc/grpc-js";

/**
 * Why a lock or election call failed, as a closed set of names a program can switch on:
 * - `badRequest`: invalid input (empty or malformed name, bad option), refused before any request;
 * - `sessionLost`: the session's lease is gone (expired, revoked, or the session was closed), so
 *   nothing can be held with it — Go's `ErrSessionExpired`;
 * - `locked`: `tryLock()` found the lock held by someone else (Go's `ErrLocked`);
 * - `notHeld`: `unlock()` or `proclaim()` without a lock or leadership held;
 * - `lost`: the lock or leadership was lost while held (lease lost, or the key was deleted by
 *   someone else); reported by `unlock()`/`resign()` after a loss and by the `lost` event;
 * - `noLeader`: `leader()` found no candidate (Go's `ErrElectionNoLeader`);
 * - `timeout`: `timeoutMs` passed while waiting; the waiter's key was removed;
 * - `aborted`: the `signal` was aborted while waiting; the waiter's key was removed.
 */
export type LockErrorReason =
  | "badRequest"
  | "sessionLost"
  | "locked"
  | "notHeld"
  | "lost"
  | "noLeader"
  | "timeout"
  | "aborted";

const CODES: Record<LockErrorReason, status> = {
  badRequest: status.INVALID_ARGUMENT,
  sessionLost: status.NOT_FOUND,
  locked: status.FAILED_PRECONDITION,
  notHeld: status.FAILED_PRECONDITION,
  lost: status.ABORTED,
  noLeader: status.NOT_FOUND,
  timeout: status.DEADLINE_EXCEEDED,
  aborted: status.CANCELLED,
};

/**
 * The one error class of `@keyway/lock`, in the style of the client's `KeywayError`: `code` is
 * the gRPC status a server would have used, `reason` a typed name, the cause (a client
 * `KeywayError`, a session's loss error, an abort reason) is the standard `cause`. Transport
 * failures of the underlying calls are not wrapped: they surface as the client's `KeywayError`.
 */
export class LockError extends Error {
  override readonly name = "LockError";
  readonly code: status;
  readonly reason: LockErrorReason;

  constructor(reason: LockErrorReason, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.reason = reason;
    this.code = CODES[reason];
  }

  /** True when `err` is a LockError with one of the given reasons (any reason if none given). */
  static is(err: unknown, ...reasons: LockErrorReason[]): err is LockError {
    return err instanceof LockError && (reasons.length === 0 || reasons.includes(err.reason));
  }
}
