import { Metadata } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { describe, expect, it } from "vitest";
import { call, type RawClients, withoutIds } from "../support/raw-grpc.js";
import { useRawPair } from "../support/raw-pair.js";

/**
 * Bad and unusual Watch requests over raw gRPC, sent identically to real etcd 3.4 and to
 * Keyway on one stream each: the responses (ids blanked) must be the same, in the same order
 * (etcd fans one revision out to the watchers of a stream in map order, so responses with events
 * are compared in order per watcher, the others in stream order).
 */
const { WatchCreateRequest } = etcdserverpb;
const key = (text: string) => Buffer.from(text, "latin1");
type Create = Parameters<typeof WatchCreateRequest.fromPartial>[0];
const createReq = (fields: Create): etcdserverpb.WatchRequest => ({
  requestUnion: { $case: "createRequest", createRequest: WatchCreateRequest.fromPartial(fields) },
});
const cancelReq = (watchId: bigint): etcdserverpb.WatchRequest => ({
  requestUnion: { $case: "cancelRequest", cancelRequest: { watchId } },
});
const progressReq: etcdserverpb.WatchRequest = {
  requestUnion: { $case: "progressRequest", progressRequest: {} },
};

/** One step of a probe: a watch request on the stream, or a put through KV. */
type Action = etcdserverpb.WatchRequest | { put: string };

/** What one stream received: responses without events in order, event responses per watcher. */
interface Received {
  control: unknown[];
  events: Record<string, unknown[]>;
}

/**
 * Sends the actions in order on one stream (each after the responses it causes have had time
 * to arrive) and collects the responses until the stream has been quiet for a while.
 */
async function exchange(c: RawClients, actions: Action[], metadata = new Metadata()): Promise<Received> {
  const stream = c.watch.watch(metadata);
  const responses: Received = { control: [], events: {} };
  let last = Date.now();
  stream.on("data", (r: etcdserverpb.WatchResponse) => {
    const plain = withoutIds({ ok: true, value: r });
    const id = String(r.watchId);
    if (r.events.length === 0) responses.control.push(plain);
    else responses.events[id] = [...(responses.events[id] ?? []), plain];
    last = Date.now();
  });
  stream.on("error", (e: { code: number; details: string }) => {
    responses.control.push({ error: e.code, message: e.details });
  });
  for (const action of actions) {
    if ("put" in action) {
      await call((cb) =>
        c.kv.put(etcdserverpb.PutRequest.fromPartial({ key: key(action.put), value: key("v") }), cb),
      );
    } else {
      stream.write(action);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  // etcd's catch-up runs every 100 ms: wait until nothing came for a while.
  while (Date.now() - last < 400) await new Promise((resolve) => setTimeout(resolve, 50));
  stream.removeAllListeners();
  stream.on("error", () => {}); // our own cancel
  stream.cancel();
  return responses;
}

const probes: Record<string, Action[]> = {
  "range_end before key": [createReq({ key: key("b"), rangeEnd: key("a") })],
  "range_end equal to key": [createReq({ key: key("b"), rangeEnd: key("b") })],
  "duplicate client-chosen watch ids": [
    createReq({ key: key("a"), watchId: 7n }),
    createReq({ key: key("b"), watchId: 7n }),
    createReq({ key: key("c") }),
    { put: "a" },
  ],
  "client-chosen ids next to server-chosen ones": [
    createReq({ key: key("a"), watchId: 1n }),
    createReq({ key: key("a") }),
    createReq({ key: key("a") }),
    createReq({ key: key("a"), watchId: -3n }),
    { put: "a" },
  ],
  "negative start revision before any compaction": [createReq({ key: key("a"), startRevision: -5n })],
  "empty key watches \\x00": [createReq({}), { put: "\x00" }, { put: "a" }],
  "cancel of an unknown id, then a real cancel and progress": [
    createReq({ key: key("a") }),
    cancelReq(99n),
    cancelReq(0n),
    progressReq,
    { put: "a" },
  ],
  "start revision in the future": [
    createReq({ key: key("f"), startRevision: 40n }),
    ...Array(3).fill({ put: "f" }),
  ],
  "history with filters and prev_kv": [
    createReq({ key: key("a"), rangeEnd: key("g"), startRevision: 2n, prevKv: true, filters: [1] }),
  ],
};

describe("bad watch input over raw gRPC: Keyway answers as etcd 3.4 does", () => {
  const env = useRawPair();

  for (const [name, actions] of Object.entries(probes)) {
    it(name, async () => {
      const [expected, actual] = await Promise.all([
        exchange(env.etcd, actions),
        exchange(env.keyway, actions),
      ]);
      expect(expected.control.length).toBeGreaterThan(0);
      expect(actual).toEqual(expected);
    });
  }

  it("negative start revision after a compaction", async () => {
    for (const c of [env.etcd, env.keyway]) {
      const compact = etcdserverpb.CompactionRequest.fromPartial({ revision: 3n });
      expect((await call((cb) => c.kv.compact(compact, cb))).ok).toBe(true);
    }
    const actions = [
      createReq({ key: key("a"), startRevision: -5n }),
      createReq({ key: key("a"), startRevision: 2n }),
    ];
    const [expected, actual] = await Promise.all([
      exchange(env.etcd, actions),
      exchange(env.keyway, actions),
    ]);
    expect(actual).toEqual(expected);
  });

  it("a stream with hasleader=true metadata works while there is a leader", async () => {
    const metadata = new Metadata();
    metadata.set("hasleader", "true");
    const actions = [createReq({ key: key("l") }), { put: "l" }];
    const [expected, actual] = await Promise.all([
      exchange(env.etcd, actions, metadata),
      exchange(env.keyway, actions, metadata),
    ]);
    expect(actual).toEqual(expected);
  });
});
