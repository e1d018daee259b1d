/** The part of a grpc-js server call that tells about cancellation. */
interface CancellableCall {
  readonly cancelled: boolean;
  once(event: "cancelled", listener: () => void): unknown;
}

/**
 * An AbortSignal that aborts when the client cancels the call (or its deadline passes), so a
 * handler that waits (a lock, a campaign, a stream) stops waiting and cleans up after itself.
 */
export function callSignal(call: CancellableCall): AbortSignal {
  const controller = new AbortController();
  if (call.cancelled) controller.abort(new Error("call cancelled"));
  else call.once("cancelled", () => controller.abort(new Error("call cancelled")));
  return controller.signal;
}
