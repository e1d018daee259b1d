import type { ServiceDefinition } from "@grpc/grpc-js";
import { type Encodable, encodeMessage } from "@keyway/api";

/** For each method of a service definition, the generated message type of its response. */
export type ResponseTypes<T extends ServiceDefinition> = {
  [K in keyof T]: Encodable<Parameters<T[K]["responseSerialize"]>[0]>;
};

/**
 * Wraps a generated service definition so each response is encoded by `encodeMessage` (one
 * reused writer, one copy) instead of the generated serializer (a fresh writer and two copies
 * per response); the bytes are the same.
 */
export function withSharedWriter<T extends ServiceDefinition>(definition: T, responses: ResponseTypes<T>): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const type = responses[name as keyof T];
    wrapped[name] = { ...method, responseSerialize: (value: unknown) => encodeMessage(type, value) };
  }
  return wrapped as T;
}
