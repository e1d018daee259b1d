import { status } from "@grpc/grpc-js";
import { EtcdError } from "@keyway/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../test/support/ports.js";
import { compare, KeywayClient, KeywayError, op, txn } from "../src/index.js";

// No server listens here: every check must fail before a request is sent (a send would time out).
let client: KeywayClient;
beforeAll(async () => {
  client = new KeywayClient({ endpoints: [`http://127.0.0.1:${await freePort()}`], defaultTimeoutMs: 5_000 });
});
afterAll(() => client.close());

async function badRequest(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeywayError);
  expect((error as KeywayError).reason).toBe("badRequest");
  expect((error as KeywayError).code).toBe(status.INVALID_ARGUMENT);
  expect((error as KeywayError).message).toMatch(message);
}

describe("bad input is refused before a request is sent", () => {
  it("rejects invalid keys", async () => {
    await badRequest(client.get(""), /key must not be empty/);
    await badRequest(client.put("", "v"), /key must not be empty/);
    await badRequest(client.get(42 as unknown as string), /key must be a string or bytes/);
    await badRequest(client.put("k", null as unknown as string), /value must be a string or bytes/);
    await badRequest(client.delete(""), /key must not be empty/);
  });

  it("rejects invalid ranges and options", async () => {
    await badRequest(client.range("a", { prefix: true, end: "b" }), /only one of prefix, end and fromKey/);
    await badRequest(client.range("b", { end: "a" }), /range end must sort after the key/);
    await badRequest(client.range("a", { limit: -1 }), /limit must be between/);
    await badRequest(client.range("a", { limit: 1.5 }), /limit must be an integer/);
    await badRequest(client.range("a", { revision: -2n }), /revision must be between/);
    await badRequest(client.range("a", { minModRevision: 5n, maxModRevision: 2n }), /above maxmodRevision/i);
    await badRequest(client.range("a", { sort: { target: "size" as "key" } }), /invalid sort/);
    await badRequest(client.range("a", { prefx: true } as object), /unknown option "prefx"/);
    await badRequest(client.put("k", "v", { ignoreValue: true }), /value cannot be given with ignoreValue/);
    await badRequest(client.put("k", "v", { ignoreLease: true, lease: 5n }), /lease cannot be given/);
    await badRequest(client.get("k", { timeoutMs: -1 }), /timeoutMs must be a positive number/);
    await badRequest(client.watch("", {}), /key must not be empty/);
    await badRequest(client.watch("k", { startRev: 1n } as object), /unknown option "startRev"/);
    await badRequest(
      client.watch("k", { maxBufferedEvents: 0 }),
      /maxBufferedEvents must be a positive integer/,
    );
    await badRequest(client.watch("k", { startRevision: -1n }), /startRevision must be between/);
    await badRequest(client.lease.grant(0), /ttlSeconds must be positive/);
    await badRequest(client.lease.revoke(0n), /lease id must not be 0/);
    // Member ids are uint64: etcd draws them from all 64 bits, so only the uint64 bounds apply.
    await badRequest(client.cluster.memberRemove(-1n), /member id must be between 0 and 2\^64-1/);
    await badRequest(client.cluster.memberRemove(2n ** 64n), /member id must be between 0 and 2\^64-1/);
    await badRequest(client.maintenance.moveLeader(2n ** 64n), /targetId must be between 0 and 2\^64-1/);
  });

  it("rejects bad endpoints and TLS settings at construction", () => {
    expect(() => new KeywayClient({ endpoints: [] })).toThrow(/at least one endpoint/);
    expect(() => new KeywayClient({ endpoints: ["http://127.0.0.1"] })).toThrow(/has no port/);
    expect(() => new KeywayClient({ endpoints: ["http://a:1", "https://b:2"] })).toThrow(/mix http/);
    expect(() => new KeywayClient({ endpoints: ["a:1"], tls: { cert: Buffer.from("x") } })).toThrow(
      /go together/,
    );
  });
});

describe("txn builder", () => {
  it("throws at build time on misuse", () => {
    expect(() =>
      client
        .txn()
        .then(op.put("a", "1"))
        .if(compare.version("a", "==", 0n)),
    ).toThrow(/must come first/);
    expect(() => client.txn().then().then()).toThrow(/only once/);
    expect(() => client.txn().else().then()).toThrow(/before else/);
    expect(() => client.txn().else().else()).toThrow(/only once/);
    expect(() => compare.value("a", "=~" as "==", "x")).toThrow(/invalid compare operator/);
    expect(() => compare.create("", "==", 0n)).toThrow(/key must not be empty/);
    expect(() => compare.mod("a", ">", 5 as unknown as bigint)).toThrow(/must be a bigint/);
    expect(() => op.get("a", { prefix: true, end: "b" })).toThrow(/only one of/);
    expect(() => op.put("", "v")).toThrow(/key must not be empty/);
    expect(() => client.txn().then({} as never)).toThrow(/op\.\*\(\) values/);
    expect(() => op.txn({} as never)).toThrow(/txn\(\) builder/);
  });

  it("never runs on await and explains why", async () => {
    const builder = client
      .txn()
      .if(compare.version("a", "==", 0n))
      .then(op.put("a", "1"));
    const awaited = (async () => await (builder as unknown as Promise<unknown>))();
    await expect(awaited).rejects.toThrow(/call \.commit\(\)/);
    await expect(txn().commit()).rejects.toThrow(/only for nesting/);
  });
});

describe("errors", () => {
  it("classifies by gRPC code plus the exact message, never by substring", () => {
    const compacted = KeywayError.from({
      code: EtcdError.compacted.code,
      details: EtcdError.compacted.message,
    });
    expect(compacted.reason).toBe("compacted");
    const wrongCode = KeywayError.from({ code: status.INTERNAL, details: EtcdError.compacted.message });
    expect(wrongCode.reason).toBe("unknown");
    const longer = KeywayError.from({ code: 11, details: `${EtcdError.compacted.message} (extra)` });
    expect(longer.reason).toBe("unknown");
    const transport = KeywayError.from({ code: status.UNAVAILABLE, details: "No connection established" });
    expect(transport.reason).toBe("unavailable");
    expect(KeywayError.from(new Error("boom"))).toMatchObject({ reason: "unknown", message: "boom" });
    expect(KeywayError.is(compacted, "compacted", "futureRev")).toBe(true);
  });
});
