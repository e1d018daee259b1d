import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { etcdserverpb, findWireDefect, WIRE_SCHEMA } from "../src/index.js";

const bytes = fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a));
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const put = fc.record({ key: bytes, value: bytes, lease: int64, prevKv: fc.boolean() });
const compare = fc.record({
  key: bytes,
  result: fc.integer({ min: 0, max: 3 }),
  target: fc.integer({ min: 0, max: 4 }),
  rangeEnd: bytes,
  targetUnion: fc.oneof(
    fc.record({ $case: fc.constant("version" as const), version: int64 }),
    fc.record({ $case: fc.constant("value" as const), value: bytes }),
  ),
});
const txn = fc.record({
  compare: fc.array(compare, { maxLength: 3 }),
  success: fc.array(
    fc.oneof(
      put.map((p) => ({ request: { $case: "requestPut" as const, requestPut: p } })),
      fc
        .record({ key: bytes, limit: int64, revision: int64, sortOrder: fc.integer({ min: 0, max: 2 }) })
        .map((r) => ({
          request: { $case: "requestRange" as const, requestRange: r },
        })),
    ),
    { maxLength: 4 },
  ),
});

describe("findWireDefect", () => {
  it("accepts everything the encoder produces (no false positives)", () => {
    fc.assert(
      fc.property(txn, (t) => {
        const encoded = etcdserverpb.TxnRequest.encode(etcdserverpb.TxnRequest.fromPartial(t)).finish();
        expect(findWireDefect(WIRE_SCHEMA, "etcdserverpb.TxnRequest", encoded)).toBeUndefined();
      }),
    );
  });

  it("accepts packed and unpacked repeated enums (watch filters)", () => {
    const packed = etcdserverpb.WatchCreateRequest.encode({
      ...etcdserverpb.WatchCreateRequest.fromPartial({ key: Buffer.from("k") }),
      filters: [0, 1],
    }).finish();
    expect(findWireDefect(WIRE_SCHEMA, "etcdserverpb.WatchCreateRequest", packed)).toBeUndefined();
    const unpacked = Buffer.from([0x28, 0x00, 0x28, 0x01]);
    expect(findWireDefect(WIRE_SCHEMA, "etcdserverpb.WatchCreateRequest", unpacked)).toBeUndefined();
  });

  it("skips unknown fields of any valid wire type", () => {
    const unknown = Buffer.from([0xf8, 0x07, 0x01, 0xfd, 0x07, 1, 2, 3, 4]);
    expect(findWireDefect(WIRE_SCHEMA, "etcdserverpb.RangeRequest", unknown)).toBeUndefined();
  });

  it.each([
    ["wrong wire type of a known field", [0x0d, 1, 2, 3, 4], /wrong wireType = 5 for field 1/],
    ["truncated varint", [0x18, 0xff], /truncated varint/],
    ["length past the end", [0x0a, 0x05, 0x61], /length past the end/],
    ["invalid wire type", [0x7f], /invalid wire type 7/],
    ["field number 0", [0x00, 0x00], /field number 0/],
  ])("refuses %s", (_, raw, message) => {
    expect(findWireDefect(WIRE_SCHEMA, "etcdserverpb.RangeRequest", Buffer.from(raw))).toMatch(message);
  });

  it("checks nested messages: a bad compare inside a txn", () => {
    const badCompare = Buffer.from([0x0a, 0x02, 0x08, 0x80]);
    expect(findWireDefect(WIRE_SCHEMA, "etcdserverpb.TxnRequest", badCompare)).toMatch(/truncated varint/);
  });

  it("knows every method's request type", () => {
    expect(WIRE_SCHEMA.methods["/etcdserverpb.KV/Range"]).toBe("etcdserverpb.RangeRequest");
    expect(WIRE_SCHEMA.methods["/v3lockpb.Lock/Lock"]).toBe("v3lockpb.LockRequest");
  });
});
