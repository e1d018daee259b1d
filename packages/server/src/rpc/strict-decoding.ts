import type { ServiceDefinition } from "@grpc/grpc-js";
import { findWireDefect, WIRE_SCHEMA } from "@keyway/api";

/**
 * Wraps a generated service definition so each request is checked against the wire schema
 * before ts-proto decodes it. ts-proto skips a known field sent with the wrong wire type, which
 * would turn a malformed request into a different, valid one; etcd's decoder refuses it, and
 * grpc-js answers a throwing deserializer with INTERNAL, as grpc-go does.
 */
export function strictDecoding<T extends ServiceDefinition>(definition: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const messageName = WIRE_SCHEMA.methods[method.path];
    if (messageName === undefined) {
      wrapped[name] = method;
      continue;
    }
    wrapped[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        const defect = findWireDefect(WIRE_SCHEMA, messageName, bytes);
        if (defect !== undefined) throw new Error(`proto: ${defect}`);
        return method.requestDeserialize(bytes);
      },
    };
  }
  return wrapped as T;
}
