import { mvccpb } from "@keyway/api";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeKeyValue, decodeKeyValueHead, encodeKeyValue } from "../../src/mvcc/kv-codec.js";
import { decodeRevision, encodeRevision } from "../../src/mvcc/revision.js";

const int64 = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 1n, max: 2n ** 53n }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);
const bytes = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array));
const keyValue = fc.record({
  key: bytes,
  createRevision: int64,
  modRevision: int64,
  version: int64,
  value: bytes,
  lease: int64,
});

describe("backend KeyValue codec", () => {
  it("writes the bytes of the generated protobuf encoder and reads them back", () => {
    fc.assert(
      fc.property(keyValue, (kv) => {
        const ours = encodeKeyValue(kv);
        expect(ours).toEqual(Buffer.from(mvccpb.KeyValue.encode(kv).finish()));
        expect(decodeKeyValue(ours)).toEqual(kv);
        const head = decodeKeyValueHead(ours);
        expect(head.key).toEqual(kv.key);
        expect(head.createRevision).toBe(Number(kv.createRevision));
        expect(head.version).toBe(Number(kv.version));
      }),
      { numRuns: 500 },
    );
  });

  it("rejects truncated input", () => {
    const encoded = encodeKeyValue(
      mvccpb.KeyValue.fromPartial({ key: Buffer.from("key"), value: Buffer.from("v") }),
    );
    expect(() => decodeKeyValue(encoded.subarray(0, encoded.length - 1))).toThrow();
  });
});

describe("revision keys", () => {
  it("encode as etcd's 17/18 bytes and sort by revision", () => {
    expect(encodeRevision(2, 1).toString("hex")).toBe("00000000000000025f0000000000000001");
    expect(encodeRevision(3, 0, true).toString("hex")).toBe("00000000000000035f000000000000000074");
    fc.assert(
      fc.property(
        fc.tuple(fc.nat(), fc.nat({ max: 10_000 }), fc.boolean()),
        fc.tuple(fc.nat(), fc.nat({ max: 10_000 })),
        ([main, sub, tombstone], [otherMain, otherSub]) => {
          expect(decodeRevision(encodeRevision(main, sub, tombstone))).toEqual({ main, sub, tombstone });
          const order = Math.sign(main - otherMain) || Math.sign(sub - otherSub);
          expect(
            Math.sign(Buffer.compare(encodeRevision(main, sub), encodeRevision(otherMain, otherSub))),
          ).toBe(order);
        },
      ),
    );
    expect(decodeRevision(encodeRevision(2 ** 53 - 1, 0)).main).toBe(2 ** 53 - 1);
  });
});
