import { etcdserverpb } from "@keyway/api";
import { describe, expect, it } from "vitest";
import { encodeFields, eventResponses } from "../../src/watch/response-bytes.js";

const event = (key: string, valueBytes: number) =>
  encodeFields({ events: [{ type: 0, kv: { key: Buffer.from(key), value: Buffer.alloc(valueBytes, 1) } }] });

describe("eventResponses", () => {
  const prefix = Buffer.concat([encodeFields({ header: { revision: 9n } }), encodeFields({ watchId: 3n })]);
  const events = Array.from({ length: 10 }, (_, i) => event(`k${i}`, 100));

  it("sends one response when fragment is off or the response is small", () => {
    for (const limit of [undefined, 10_000]) {
      const parts = eventResponses(prefix, events, limit);
      expect(parts).toHaveLength(1);
      const decoded = etcdserverpb.WatchResponse.decode(parts[0] as Buffer);
      expect(decoded.fragment).toBe(false);
      expect(decoded.watchId).toBe(3n);
      expect(decoded.header?.revision).toBe(9n);
      expect(decoded.events.map((e) => e.kv?.key.toString())).toEqual(events.map((_, i) => `k${i}`));
    }
  });

  it("splits as etcd's sendFragments: parts under the limit, fragment on all but the last", () => {
    const limit = 350;
    const parts = eventResponses(prefix, events, limit).map((bytes) => ({
      bytes,
      decoded: etcdserverpb.WatchResponse.decode(bytes),
    }));
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.map((p) => p.decoded.fragment)).toEqual([...parts.slice(1).map(() => true), false]);
    for (const { bytes, decoded } of parts) {
      expect(decoded.events.length).toBeGreaterThan(0);
      if (decoded.events.length > 1) expect(bytes.length).toBeLessThan(limit);
      expect(decoded.watchId).toBe(3n);
    }
    const keys = parts.flatMap((p) => p.decoded.events.map((e) => e.kv?.key.toString()));
    expect(keys).toEqual(events.map((_, i) => `k${i}`));
  });

  it("keeps an event larger than the limit whole", () => {
    const big = [event("a", 1000), event("b", 10), event("c", 1000)];
    const parts = eventResponses(prefix, big, 500).map((bytes) => etcdserverpb.WatchResponse.decode(bytes));
    expect(parts.map((p) => p.events.map((e) => e.kv?.key.toString()))).toEqual([["a"], ["b"], ["c"]]);
    expect(parts.map((p) => p.fragment)).toEqual([true, true, false]);
  });
});
