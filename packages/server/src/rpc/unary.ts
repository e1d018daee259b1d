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

/** The named methods of a generated service interface, without grpc-js's catch-all index signature. */
type KnownMethods<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

/**
 * The handlers a service implements out of its generated interface; a misspelt method name is a
 * type error (grpc-js answers UNIMPLEMENTED for the methods left out).
 */
export type ServiceHandlers<T, K extends keyof KnownMethods<T>> = Pick<KnownMethods<T>, K>;
