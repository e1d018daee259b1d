import { describe, expect, it } from "vitest";
import { compare, type KeywayError } from "../src/index.js";
import { expectUnimplemented, pending, useTarget } from "./support/target.js";

const env = useTarget({ proxy: true });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("lease", () => {
  it("grants, lists, reports time to live with keys, and revokes with its keys", async () => {
    if (pending("lease")) return expectUnimplemented(() => env.client.lease.grant(5));
    const lease = await env.client.lease.grant(1);
    expect(lease.ttlSeconds).toBeGreaterThanOrEqual(2n); // etcd raises TTLs below its minimum
    await env.client.put("lease/a", "1", { lease: lease.id });
    const ttl = await env.client.lease.timeToLive(lease.id, { keys: true });
    expect(ttl.keys.map((k) => k.toString())).toEqual(["lease/a"]);
    expect(ttl.grantedTtlSeconds).toBe(lease.ttlSeconds);
    expect(await env.client.lease.leases()).toContain(lease.id);
    await env.client.lease.revoke(lease.id);
    expect(await env.client.get("lease/a")).toBeUndefined();
    expect((await env.client.lease.timeToLive(lease.id)).ttlSeconds).toBe(-1n);
    await expect(env.client.lease.revoke(lease.id)).rejects.toMatchObject({ reason: "leaseNotFound" });
    await expect(env.client.lease.keepAlive(lease.id)).rejects.toMatchObject({ reason: "leaseNotFound" });
  });

  it("txn compares the lease a key is attached to", async () => {
    if (pending("lease")) return expectUnimplemented(() => env.client.lease.grant(5));
    const { id } = await env.client.lease.grant(30);
    await env.client.put("lease/c", "v", { lease: id });
    expect(
      (
        await env.client
          .txn()
          .if(compare.lease("lease/c", "==", id))
          .commit()
      ).succeeded,
    ).toBe(true);
    expect(
      (
        await env.client
          .txn()
          .if(compare.lease("lease/c", "==", 0n))
          .commit()
      ).succeeded,
    ).toBe(false);
    await env.client.lease.revoke(id);
  });

  it("keeps a lease alive past its TTL", async () => {
    if (pending("lease")) return expectUnimplemented(() => env.client.lease.grant(5));
    const lease = await env.client.lease.grant(2);
    await using keepAlive = await env.client.lease.keepAlive(lease.id);
    let renewals = 0;
    keepAlive.on("renewed", () => renewals++);
    await sleep(3_000);
    expect(renewals).toBeGreaterThanOrEqual(3);
    expect((await env.client.lease.timeToLive(lease.id)).ttlSeconds).toBeGreaterThan(0n);
    expect(keepAlive.signal.aborted).toBe(false);
  });

  it("announces lost through an event and the signal when the lease is revoked", async () => {
    if (pending("lease")) return expectUnimplemented(() => env.client.lease.grant(5));
    const lease = await env.client.lease.grant(5);
    const keepAlive = await env.client.lease.keepAlive(lease.id, { ttlSeconds: lease.ttlSeconds });
    const lost = new Promise<KeywayError>((resolve) => keepAlive.once("lost", resolve));
    await env.client.lease.revoke(lease.id);
    const error = await lost;
    expect(error.reason).toBe("leaseLost");
    expect(keepAlive.signal.aborted).toBe(true);
    expect(keepAlive.signal.reason).toBe(error);
  });

  it("announces lost within the TTL when renewals stop getting through", async () => {
    if (pending("lease")) return expectUnimplemented(() => env.client.lease.grant(5));
    const lease = await env.client.lease.grant(2);
    const keepAlive = await env.proxied.lease.keepAlive(lease.id);
    await new Promise((resolve) => keepAlive.once("renewed", resolve));
    const started = Date.now();
    env.proxy.setDown(true);
    try {
      const error = await new Promise<KeywayError>((resolve) => keepAlive.once("lost", resolve));
      expect(error.message).toMatch(/not renewed within its TTL/);
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      env.proxy.setDown(false);
    }
  });

  it("sessions keep their lease, report it lost, and revoke it on close", async () => {
    if (pending("lease")) return expectUnimplemented(() => env.client.lease.grant(5));
    const session = await env.client.session({ ttlSeconds: 5 });
    await env.client.put("session/k", "v", { lease: session.leaseId });
    await session.close();
    expect(await env.client.get("session/k")).toBeUndefined();

    await using other = await env.client.session({ ttlSeconds: 5 });
    const lost = new Promise<KeywayError>((resolve) => other.once("lost", resolve));
    await env.client.lease.revoke(other.leaseId);
    expect((await lost).reason).toBe("leaseLost");
    expect(other.signal.aborted).toBe(true);
    expect(other.isLost).toBe(true);
  });

  it("sessions adopt an existing lease and report its granted TTL", async () => {
    if (pending("lease")) return expectUnimplemented(() => env.client.lease.grant(5));
    const lease = await env.client.lease.grant(7);
    const session = await env.client.session({ leaseId: lease.id });
    expect(session.leaseId).toBe(lease.id);
    expect(session.ttlSeconds).toBe(7n);
    await session.close();
    expect((await env.client.lease.timeToLive(lease.id)).ttlSeconds).toBe(-1n);
    await expect(env.client.session({ leaseId: lease.id })).rejects.toMatchObject({
      reason: "leaseNotFound",
    });
  });

  it("a session whose keep-alive cannot start revokes the lease it granted", async () => {
    if (pending("lease")) return expectUnimplemented(() => env.client.lease.grant(5));
    const id = 0x5e55_1011n;
    // An untyped caller passes `id`: the grant accepts it, the keep-alive refuses it after the grant.
    const options = { ttlSeconds: 60, id } as unknown as Parameters<typeof env.client.session>[0];
    await expect(env.client.session(options)).rejects.toMatchObject({ reason: "badRequest" });
    expect((await env.client.lease.timeToLive(id)).ttlSeconds).toBe(-1n);
  });
});
