import { etcdserverpb } from "@keyway/api";
import { describe, expect, it } from "vitest";
import { type CallOutcome, call, type RawClients } from "../support/raw-grpc.js";
import { compareProbes, type Probe, useRawPair } from "../support/raw-pair.js";

/**
 * Lease bad input over raw gRPC, sent identically to real etcd 3.4 and to Keyway in this order
 * (probes build on each other): the status code and message, or the whole response with ids
 * blanked, must match.
 */
const { LeaseGrantRequest, PutRequest } = etcdserverpb;
const key = (text: string) => Buffer.from(text);

/** Sends keep-alive requests on one stream and collects one response per request. */
function keepAlive(
  c: RawClients,
  ids: bigint[],
): Promise<CallOutcome<etcdserverpb.LeaseKeepAliveResponse[]>> {
  return new Promise((resolve) => {
    const responses: etcdserverpb.LeaseKeepAliveResponse[] = [];
    const stream = c.lease.leaseKeepAlive();
    stream.on("data", (response: etcdserverpb.LeaseKeepAliveResponse) => {
      responses.push(response);
      if (responses.length === ids.length) stream.end();
    });
    stream.on("error", (error: { code: number; details: string }) =>
      resolve({ ok: false, code: error.code, message: error.details }),
    );
    stream.on("end", () => resolve({ ok: true, value: responses }));
    for (const ID of ids) stream.write({ ID });
  });
}

const grant =
  (ID: bigint, TTL: bigint): Probe =>
  (c) =>
    call((cb) => c.lease.leaseGrant(LeaseGrantRequest.fromPartial({ ID, TTL }), cb));

const probes: [string, Probe][] = [
  ["grant with a negative TTL (raised to the minimum)", grant(7n, -3n)],
  ["revoke it at once", (c) => call((cb) => c.lease.leaseRevoke({ ID: 7n }, cb))],
  ["grant with a TTL over the maximum", grant(8n, 9_000_000_001n)],
  ["grant with the maximum TTL", grant(9n, 9_000_000_000n)],
  ["grant an existing id", grant(9n, 60n)],
  ["grant an existing id with a TTL over the maximum", grant(9n, 9_000_000_001n)],
  ["grant a negative id", grant(-5n, 1000n)],
  [
    "put with a negative lease id",
    (c) => call((cb) => c.kv.put(PutRequest.fromPartial({ key: key("n"), value: key("v"), lease: -5n }), cb)),
  ],
  [
    "put with an unknown lease",
    (c) =>
      call((cb) => c.kv.put(PutRequest.fromPartial({ key: key("k"), value: key("v"), lease: 0x1234n }), cb)),
  ],
  ["time to live with keys", (c) => call((cb) => c.lease.leaseTimeToLive({ ID: -5n, keys: true }, cb))],
  [
    "time to live of an unknown lease",
    (c) => call((cb) => c.lease.leaseTimeToLive({ ID: 0x1234n, keys: true }, cb)),
  ],
  ["time to live of lease 0", (c) => call((cb) => c.lease.leaseTimeToLive({ ID: 0n, keys: false }, cb))],
  ["leases", (c) => call((cb) => c.lease.leaseLeases({}, cb))],
  ["keep-alive of unknown, zero, live and negative ids", (c) => keepAlive(c, [0x1234n, 0n, 9n, -9n])],
  ["revoke an unknown lease", (c) => call((cb) => c.lease.leaseRevoke({ ID: 0x1234n }, cb))],
  ["revoke lease 0", (c) => call((cb) => c.lease.leaseRevoke({ ID: 0n }, cb))],
  ["revoke a lease with a key (one new revision)", (c) => call((cb) => c.lease.leaseRevoke({ ID: -5n }, cb))],
  ["revoke a lease without keys (no new revision)", (c) => call((cb) => c.lease.leaseRevoke({ ID: 9n }, cb))],
  ["leases when there are none", (c) => call((cb) => c.lease.leaseLeases({}, cb))],
];

describe("lease bad input over raw gRPC: Keyway answers as etcd 3.4 does", () => {
  const env = useRawPair();
  compareProbes(env, probes);

  it("grant with id 0: the server chooses a positive id", async () => {
    for (const c of [env.etcd, env.keyway]) {
      const outcome = await grant(0n, 5n)(c);
      expect(outcome.ok).toBe(true);
      if (outcome.ok) expect((outcome.value as etcdserverpb.LeaseGrantResponse).ID).toBeGreaterThan(0n);
    }
  });
});
