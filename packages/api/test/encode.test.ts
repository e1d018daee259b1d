import { describe, expect, it } from "vitest";
import { encodeGrpcFrame, encodeMessage, etcdserverpb } from "../src/index.js";

const generated = <T>(type: { encode(m: T): { finish(): Uint8Array } }, message: T) =>
  Buffer.from(type.encode(message).finish());

describe("encodeMessage (one reused writer)", () => {
  it("writes the generated encoder's bytes, for small, nested and large messages, in any order", () => {
    const kv = (i: number, valueBytes: number) => ({
      key: Buffer.from(`key-${i}`),
      createRevision: BigInt(i),
      modRevision: BigInt(i + 1),
      version: 1n,
      value: Buffer.alloc(valueBytes, i),
      lease: 0n,
    });
    const header = { clusterId: 17n, memberId: 42n, revision: 7n, raftTerm: 3n };
    const messages = [
      etcdserverpb.RangeResponse.fromPartial({ header, kvs: [kv(1, 256), kv(2, 0)], count: 2n }),
      etcdserverpb.RangeResponse.fromPartial({ header, kvs: [kv(3, 200_000)], count: 1n }),
      etcdserverpb.RangeResponse.fromPartial({}),
      etcdserverpb.RangeResponse.fromPartial({
        header,
        kvs: Array.from({ length: 50 }, (_, i) => kv(i, 40)),
      }),
    ];
    for (const message of [...messages, ...messages.reverse()]) {
      // Buffer.equals: vitest's deep equality walks 200 KB octet by octet.
      const same = encodeMessage(etcdserverpb.RangeResponse, message).equals(
        generated(etcdserverpb.RangeResponse, message),
      );
      expect(same).toBe(true);
    }
    const put = etcdserverpb.PutResponse.fromPartial({ header, prevKv: kv(9, 10) });
    expect(encodeMessage(etcdserverpb.PutResponse, put)).toEqual(generated(etcdserverpb.PutResponse, put));
  });

  it("returns buffers that later calls do not overwrite, and recovers from an encoder that throws", () => {
    const first = encodeMessage(etcdserverpb.PutRequest, {
      ...etcdserverpb.PutRequest.fromPartial({}),
      key: Buffer.from("a"),
    });
    const copy = Buffer.from(first);
    const broken = { ...etcdserverpb.PutRequest.fromPartial({ key: Buffer.from("b") }), lease: 2n ** 70n };
    expect(() => encodeMessage(etcdserverpb.PutRequest, broken)).toThrow();
    const after = etcdserverpb.PutRequest.fromPartial({ key: Buffer.from("c"), value: Buffer.from("d") });
    expect(encodeMessage(etcdserverpb.PutRequest, after)).toEqual(generated(etcdserverpb.PutRequest, after));
    expect(first).toEqual(copy);
  });
});

describe("encodeGrpcFrame", () => {
  it("writes flag 0, the big-endian length, then the message, and leaves the next frame whole", () => {
    const put = etcdserverpb.PutResponse.fromPartial({ header: { revision: 9n } });
    const range = etcdserverpb.RangeResponse.fromPartial({
      kvs: [{ key: Buffer.from("k"), value: Buffer.alloc(70_000, 7) }],
      count: 1n,
    });
    const first = encodeGrpcFrame(etcdserverpb.PutResponse, put);
    const second = encodeGrpcFrame(etcdserverpb.RangeResponse, range);
    for (const [frame, message] of [
      [first, generated(etcdserverpb.PutResponse, put)],
      [second, generated(etcdserverpb.RangeResponse, range)],
    ] as const) {
      expect(frame[0]).toBe(0);
      expect(frame.readUInt32BE(1)).toBe(message.length);
      expect(frame.subarray(5).equals(message)).toBe(true);
    }
    expect(encodeMessage(etcdserverpb.PutResponse, put)).toEqual(generated(etcdserverpb.PutResponse, put));
  });
});
