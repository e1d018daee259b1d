import { status } from "@grpc/grpc-js";
import { KeywayClient, KeywayError } from "@keyway/client";
import { SeededRng } from "@keyway/raft";
import { describe, expect, it } from "vitest";
import { freePort } from "../src/cluster/free-port.js";
import { classifyError } from "../src/traffic/classify.js";
import { Workload } from "../src/traffic/workload.js";

const keys = ["p/k0", "p/k1", "p/k2"];
const choices = (seed: number, count: number) => {
  const workload = new Workload(0, keys, "p/", "p0", 60, new SeededRng(new SeededRng(seed).next32()));
  return Array.from({ length: count }, () => workload.next());
};

describe("traffic", () => {
  it("replays the same choice sequence from the same seed, and another from another seed", () => {
    expect(choices(42, 200)).toEqual(choices(42, 200));
    expect(choices(42, 200)).not.toEqual(choices(43, 200));
    const kinds = new Set(choices(42, 500).map((op) => op.kind));
    expect([...kinds].sort()).toEqual(["cas", "delete", "get", "leaseGrant", "put", "range"]);
  });

  it("classifies refusals before the apply as failed, and everything that may hide a write as unknown", () => {
    const etcd = (code: number, details: string) => Object.assign(new Error(details), { code, details });
    expect(classifyError(etcd(status.NOT_FOUND, "etcdserver: requested lease not found")).status).toBe(
      "failed",
    );
    expect(classifyError(etcd(status.INVALID_ARGUMENT, "etcdserver: key is not provided")).status).toBe(
      "failed",
    );
    expect(
      classifyError(new KeywayError({ code: status.INVALID_ARGUMENT, reason: "badRequest", message: "x" }))
        .status,
    ).toBe("failed");
    expect(classifyError(etcd(status.UNAVAILABLE, "etcdserver: request timed out")).status).toBe("unknown");
    expect(classifyError(etcd(status.UNAVAILABLE, "etcdserver: no leader")).status).toBe("unknown");
    expect(classifyError(etcd(status.UNAVAILABLE, "Connection dropped")).status).toBe("unknown");
    expect(classifyError(etcd(status.DEADLINE_EXCEEDED, "Deadline exceeded")).status).toBe("unknown");
    // A message etcd does not send under that code is not trusted as a refusal.
    expect(classifyError(etcd(status.UNAVAILABLE, "etcdserver: requested lease not found")).status).toBe(
      "unknown",
    );
  });

  it("a write that could reach no endpoint was never sent: failed, not unknown", async () => {
    const port = await freePort();
    await using client = new KeywayClient({
      endpoints: [`http://127.0.0.1:${port}`],
      retry: { retries: 0 },
      connectTimeoutMs: 300,
    });
    const error = await client.put("k", "v").then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(KeywayError.is(error, "unavailable") && error.notSent).toBe(true);
    expect(classifyError(error).status).toBe("failed");
  });

  it("revokes only leases it holds, and uses a held lease for puts", () => {
    const workload = new Workload(0, keys, "p/", "p0", 60, new SeededRng(7));
    workload.observe(
      { kind: "leaseGrant", ttlSeconds: 60 },
      { status: "ok", result: { kind: "leaseGrant", revision: 1n, lease: 9n } },
    );
    const ops = Array.from({ length: 300 }, () => workload.next());
    expect(ops.some((op) => op.kind === "put" && op.lease === 9n)).toBe(true);
    for (const op of ops) if (op.kind === "leaseRevoke") expect(op.lease).toBe(9n);
  });
});
