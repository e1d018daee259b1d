import { EtcdServerError } from "../errors.js";

/**
 * etcd serves Lock and Election through its in-process Go client, which turns the server's errors
 * into plain Go errors: a caller sees them as gRPC UNKNOWN with etcd's message (e.g. an unknown
 * lease is `etcdserver: requested lease not found`, code 2, not NOT_FOUND). This does the same.
 */
export function asV3ClientError(error: unknown): never {
  if (error instanceof EtcdServerError) throw new Error(error.message);
  throw error;
}
