import { LockError } from "./errors.js";

/** Options of every waiting call: `{ signal, timeoutMs }`, as on every client call. */
export interface WaitOptions {
  /** Aborting stops the wait (the waiter's key is removed) and rejects with reason `aborted`. */
  signal?: AbortSignal;
  /** Gives up after this many milliseconds (the waiter's key is removed); reason `timeout`. */
  timeoutMs?: number;
}

/** A signal aborted with a typed LockError when the caller's signal aborts or the timeout passes. */
export interface CallSignal extends Disposable {
  readonly signal: AbortSignal;
}

/** Checks `{ signal, timeoutMs }` and builds the call's combined signal. */
export function callSignal(options: WaitOptions | undefined, what: string): CallSignal {
  const { signal, timeoutMs, ...rest } = options ?? {};
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new LockError("badRequest", `unknown ${what} option ${unknown.join(", ")}`);
  if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs < 0))
    throw new LockError("badRequest", `timeoutMs must be a non-negative number, got ${timeoutMs}`);
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new LockError("badRequest", "signal must be an AbortSignal");
  const controller = new AbortController();
  const onAbort = () =>
    controller.abort(new LockError("aborted", `${what} was aborted`, signal?.reason as unknown));
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new LockError("timeout", `${what} timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}
