import type {
  Client,
  handleBidiStreamingCall,
  handleUnaryCall,
  Metadata,
  MethodDefinition,
  ServiceError,
} from "@grpc/grpc-js";

/** Answers of a forwarded unary call, before they go back to the caller. */
export type UnaryCallback<Res> = (error: ServiceError | null, response?: Res) => void;

/** Sends one unary call upstream with the caller's metadata. */
export function callUpstream<Req, Res>(
  upstream: Client,
  method: MethodDefinition<Req, Res>,
  request: Req,
  metadata: Metadata,
  callback: UnaryCallback<Res>,
): void {
  upstream.makeUnaryRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    request,
    metadata,
    (error, response) => callback(error, response),
  );
}

/** A unary handler that forwards the call upstream unchanged. */
export function forwardUnary<Req, Res>(
  upstream: Client,
  method: MethodDefinition<Req, Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => callUpstream(upstream, method, call.request, call.metadata, callback);
}

/**
 * A bidi handler that pipes both directions to an upstream stream; `filter` may change or drop
 * (undefined) each response on its way back. Either side ending or failing ends the other.
 */
export function forwardBidi<Req, Res>(
  upstream: Client,
  method: MethodDefinition<Req, Res>,
  filter: (response: Res) => Res | undefined = (response) => response,
): handleBidiStreamingCall<Req, Res> {
  return (call) => {
    const up = upstream.makeBidiStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      call.metadata,
    );
    call.on("data", (request: Req) => up.write(request));
    call.on("end", () => up.end());
    call.on("cancelled", () => up.cancel());
    call.on("error", () => up.cancel());
    up.on("data", (response: Res) => {
      const passed = filter(response);
      if (passed !== undefined) call.write(passed);
    });
    up.on("error", (error: ServiceError) => call.emit("error", error));
    up.on("end", () => call.end());
  };
}
