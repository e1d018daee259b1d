import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { EtcdServerError } from "../errors.js";

/**
 * Turns anything a handler threw into the gRPC status a client sees: etcd errors keep etcd's code
 * and exact message; anything else is a bug or an I/O failure and surfaces as UNKNOWN with its
 * text, as etcd does for errors it has no mapping for.
 */
export function toServiceError(error: unknown): Partial<ServiceError> {
  if (error instanceof EtcdServerError) {
    return { code: error.code, details: error.message, metadata: new Metadata() };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: status.UNKNOWN, details: message, metadata: new Metadata() };
}
