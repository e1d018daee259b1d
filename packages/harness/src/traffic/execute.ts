import { compare, type KeywayClient, op } from "@keyway/client";
import type { Operation, Outcome, Result } from "../history/types.js";
import { classifyError } from "./classify.js";
import { recordKv } from "./convert.js";

/** Sends one operation with a deadline and returns its outcome (never throws). */
export async function execute(
  client: KeywayClient,
  operation: Operation,
  timeoutMs: number,
): Promise<Outcome> {
  try {
    return { status: "ok", result: await send(client, operation, { timeoutMs }) };
  } catch (error) {
    return classifyError(error);
  }
}

async function send(
  client: KeywayClient,
  operation: Operation,
  call: { timeoutMs: number },
): Promise<Result> {
  switch (operation.kind) {
    case "get": {
      const options = { ...call, ...(operation.serializable === true ? { serializable: true } : {}) };
      const r = await client.range(operation.key, options);
      const kv = r.kvs[0];
      return { kind: "get", revision: r.revision, kv: kv === undefined ? undefined : recordKv(kv) };
    }
    case "range": {
      const end = operation.end === "\u0000" ? { fromKey: true } : { end: operation.end };
      const r = await client.range(operation.start, { ...call, ...end, limit: operation.limit ?? 0 });
      return { kind: "range", revision: r.revision, kvs: r.kvs.map(recordKv), count: r.count };
    }
    case "put": {
      const lease = operation.lease === undefined ? {} : { lease: operation.lease };
      const r = await client.put(operation.key, operation.value, { ...call, ...lease });
      return { kind: "put", revision: r.revision };
    }
    case "delete": {
      const r = await client.delete(operation.key, call);
      return { kind: "delete", revision: r.revision, deleted: r.deleted };
    }
    case "cas":
      return cas(client, operation, call);
    case "leaseGrant": {
      const r = await client.lease.grant(operation.ttlSeconds, call);
      return { kind: "leaseGrant", revision: r.header.revision, lease: r.id };
    }
    case "leaseRevoke": {
      const header = await client.lease.revoke(operation.lease, call);
      return { kind: "leaseRevoke", revision: header.revision };
    }
  }
}

async function cas(
  client: KeywayClient,
  operation: Extract<Operation, { kind: "cas" }>,
  call: { timeoutMs: number },
): Promise<Result> {
  const r = await client
    .txn()
    .if(compare.mod(operation.key, "==", operation.expectModRevision))
    .then(op.put(operation.key, operation.value))
    .else(op.get(operation.key))
    .commit(call);
  const read = r.responses[0];
  const kv = !r.succeeded && read?.type === "range" ? read.range.kvs[0] : undefined;
  return {
    kind: "cas",
    revision: r.revision,
    succeeded: r.succeeded,
    kv: kv === undefined ? undefined : recordKv(kv),
  };
}
