import { status } from "@grpc/grpc-js";
import { KeywayError } from "./errors.js";

/** Options accepted by every client call. */
export interface CallOptions {
  /** Aborting it cancels the underlying gRPC call (and any retry still pending). */
  signal?: AbortSignal;
  /**
   * Deadline for the whole call in milliseconds, retries included. Default: the client's
   * `defaultTimeoutMs` (none unless configured).
   */
  timeoutMs?: number;
}

/** A call's absolute deadline and cancellation signal, computed once before the first attempt. */
export interface CallContext {
  /** Epoch milliseconds, or undefined for no deadline. */
  readonly deadline: number | undefined;
  readonly signal: AbortSignal | undefined;
}

/** Fixes a call's deadline now, so retries share the caller's budget instead of extending it. */
export function callContext(
  options: CallOptions | undefined,
  defaultTimeoutMs: number | undefined,
): CallContext {
  const timeoutMs = options?.timeoutMs ?? defaultTimeoutMs;
  if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
    throw new KeywayError({
      code: status.INVALID_ARGUMENT,
      reason: "badRequest",
      message: `timeoutMs must be a positive number, got ${timeoutMs}`,
    });
  }
  return {
    deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
    signal: options?.signal,
  };
}

/** The error reported when a call's signal aborts it. */
export function abortedError(signal: AbortSignal): KeywayError {
  const cause: unknown = signal.reason;
  return new KeywayError({ code: status.CANCELLED, reason: "aborted", message: "call aborted", cause });
}

/** The error reported when a call's deadline passes. */
export function timeoutError(): KeywayError {
  return new KeywayError({
    code: status.DEADLINE_EXCEEDED,
    reason: "timeout",
    message: "call deadline exceeded",
  });
}

/** Throws the right error if the context is already aborted or past its deadline. */
export function checkContext(ctx: CallContext): void {
  if (ctx.signal?.aborted === true) throw abortedError(ctx.signal);
  if (ctx.deadline !== undefined && Date.now() >= ctx.deadline) throw timeoutError();
}

/** Resolves after `ms`, or rejects early when the context is aborted or its deadline passes. */
export function sleep(ms: number, ctx: CallContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const remaining = ctx.deadline === undefined ? ms : Math.min(ms, ctx.deadline - Date.now());
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(ctx.signal as AbortSignal));
    };
    const timer = setTimeout(
      () => {
        ctx.signal?.removeEventListener("abort", onAbort);
        if (remaining < ms) reject(timeoutError());
        else resolve();
      },
      Math.max(0, remaining),
    );
    ctx.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
