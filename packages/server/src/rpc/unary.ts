import type { handleUnaryCall, ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import { toServiceError } from "./errors.js";

/**
 * Adapts a promise-returning handler to grpc-js's callback form; every thrown error goes through
 * the one etcd error table, so handlers stay thin: validate, call the core, return.
 */
export function unary<Req, Res>(
  handler: (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    let result: Res | Promise<Res>;
    try {
      result = handler(call.request, call);
    } catch (error) {
      callback(toServiceError(error));
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error)),
      );
    } else {
      callback(null, result);
    }
  };
}
