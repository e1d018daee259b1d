import { KeywayClient } from "@keyway/client";
import { describe, expect, it } from "vitest";
import { useTarget } from "../../client/test/support/target.js";
import { keysUnder, until } from "../../lock/test/support/env.js";
import { DEFAULT_PREFIX, type Registration, RegistryError, registry } from "../src/index.js";

const env = useTarget({ proxy: true });

/** Every `registered` event a registration emits from now on. */
function causes(registration: Registration): string[] {
  const seen: string[] = [];
  registration.on("registered", (info) => seen.push(info.cause));
  return seen;
}

/** Registers instance `id` of service `search` and records its `registered` causes. */
async function registerTracked(client: KeywayClient, id: string, ttlSeconds: number) {
  const reg = await registry(client).register({
    service: "search",
    instance: { id, address: "h:1" },
    ttlSeconds,
  });
  return { reg, seen: causes(reg), oldLease: reg.leaseId as bigint };
}

/** Waits until the key is back under a new lease (the registration's own) and reported. */
async function movedToNewLease(reg: Registration, oldLease: bigint, seen: readonly string[]) {
  await until(
    async () => {
      const kv = await env.client.get(reg.key);
      return kv !== undefined && kv.lease !== oldLease && kv.lease === reg.leaseId;
    },
    15_000,
    "re-registration",
  );
  await until(() => seen.length > 0, 5_000, "the registered event");
}

describe("register", () => {
  it("writes versioned JSON under the session's lease at <prefix>/services/<service>/<id>", async () => {
    await using reg = await registry(env.client).register({
      service: "orders",
      instance: {
        id: "o-1",
        address: "10.0.0.1:50051",
        ports: { grpc: 50051 },
        metadata: { az: "a" },
        zone: "eu-1",
      },
      ttlSeconds: 5,
    });
    expect(reg.key).toBe(`${DEFAULT_PREFIX}/services/orders/o-1`);
    const kv = await env.client.get(reg.key);
    expect(kv?.lease).toBe(reg.leaseId);
    expect(kv?.json()).toMatchObject({
      format: 1,
      service: "orders",
      id: "o-1",
      address: "10.0.0.1:50051",
      ports: { grpc: 50051 },
      metadata: { az: "a" },
      weight: 1,
      zone: "eu-1",
      status: "up",
    });
    const ttl = await env.client.lease.timeToLive(reg.leaseId as bigint);
    expect(ttl.grantedTtlSeconds).toBe(5n);
  });

  it("update() rewrites the value in place, under the same lease", async () => {
    await using reg = await registry(env.client).register({
      service: "orders",
      instance: { address: "h:1" },
    });
    const leaseId = reg.leaseId;
    await reg.update({ status: "draining", metadata: { build: "42" } });
    const kv = await env.client.get(reg.key);
    expect(kv?.lease).toBe(leaseId);
    expect(kv?.json()).toMatchObject({ status: "draining", metadata: { build: "42" }, address: "h:1" });
    await expect(reg.update({ address: "x:2" } as never)).rejects.toMatchObject({ reason: "badRequest" });
  });

  it("close() deregisters at once (lease revoked)", async () => {
    const reg = await registry(env.client).register({ service: "billing", instance: { address: "h:1" } });
    const leaseId = reg.leaseId as bigint;
    await reg.close();
    expect(await env.client.get(reg.key)).toBeUndefined();
    expect((await env.client.lease.timeToLive(leaseId)).ttlSeconds).toBe(-1n);
    await expect(reg.update({ status: "down" })).rejects.toMatchObject({ reason: "closed" });
  });

  it("re-registers under a new lease after its lease is revoked by someone else", async () => {
    const { reg, seen, oldLease } = await registerTracked(env.client, "s-1", 3);
    await using _reg = reg;
    await env.client.lease.revoke(oldLease);
    await movedToNewLease(reg, oldLease, seen);
    expect(["deleted", "leaseLost"]).toContain(seen[0]);
  });

  it("puts its key back when someone deletes it", async () => {
    await using reg = await registry(env.client).register({
      service: "search",
      instance: { id: "s-2", address: "h:2" },
    });
    const seen = causes(reg);
    const leaseId = reg.leaseId;
    await env.client.delete(reg.key);
    await until(async () => (await env.client.get(reg.key))?.lease === leaseId, 5_000, "re-put");
    await until(() => seen.length > 0, 5_000, "the registered event");
    expect(seen).toEqual(["deleted"]);
    expect((await env.client.get(reg.key))?.json()).toMatchObject({ id: "s-2", address: "h:2" });
  });

  it("re-registers after its only member went silent for longer than the TTL", async () => {
    const { reg, seen, oldLease } = await registerTracked(env.proxied, "st-1", 2);
    await using _reg = reg;
    env.proxy.setStall(true);
    try {
      // The server expires the unrenewed lease and deletes the key.
      await until(async () => (await env.client.get(reg.key)) === undefined, 8_000, "expiry on the server");
    } finally {
      env.proxy.setStall(false);
    }
    await movedToNewLease(reg, oldLease, seen);
    expect(seen).toEqual(["leaseLost"]);
    expect(reg.leaseId).not.toBe(oldLease);
  });

  it("stops, reporting the error once, when its client is closed under it", async () => {
    const client = new KeywayClient({ endpoints: env.target.endpoints });
    const reg = await registry(client).register({
      service: "orphaned",
      instance: { address: "h:1" },
      ttlSeconds: 2,
    });
    const errors: unknown[] = [];
    reg.on("error", (err) => errors.push(err));
    await client.close();
    await until(() => reg.isClosed, 5_000, "the registration to stop");
    expect(errors).toMatchObject([{ reason: "closed" }]);
    await reg.close();
  });

  it("refuses bad input with a typed error before writing anything", async () => {
    const prefix = "bad-input";
    const reg = registry(env.client, { prefix });
    const big = { blob: "x".repeat(5000) };
    const cases: unknown[] = [
      { service: "", instance: { address: "h:1" } },
      { service: "a/b", instance: { address: "h:1" } },
      { service: "s".repeat(129), instance: { address: "h:1" } },
      { service: "ok", instance: { id: "has space", address: "h:1" } },
      { service: "ok", instance: { id: "x/y", address: "h:1" } },
      { service: "ok", instance: { address: "" } },
      { service: "ok", instance: {} },
      { service: "ok", instance: { address: "h:1", metadata: big } },
      { service: "ok", instance: { address: "h:1", metadata: { n: 1 } } },
      { service: "ok", instance: { address: "h:1", ports: { grpc: 70000 } } },
      { service: "ok", instance: { address: "h:1", weight: -1 } },
      { service: "ok", instance: { address: "h:1", status: "sleeping" } },
      { service: "ok", instance: { address: "h:1" }, ttlSeconds: 1 },
      { service: "ok", instance: { address: "h:1" }, ttlSeconds: 3601 },
      { service: "ok", instance: { address: "h:1" }, ttlSeconds: 2.5 },
      { service: "ok" },
    ];
    for (const options of cases) {
      const error = await reg.register(options as never).catch((err: unknown) => err);
      expect(RegistryError.is(error, "badRequest"), JSON.stringify(options).slice(0, 80)).toBe(true);
      expect(error).toMatchObject({ code: 3 });
    }
    expect(() => registry(env.client, { prefix: "ends/" })).toThrow(RegistryError);
    expect(() => reg.discover("a/b")).toThrow(RegistryError);
    expect(await keysUnder(env.client, prefix)).toBe(0);
    // The limit is on the metadata's JSON size, so one just under it is accepted.
    await using ok = await reg.register({
      service: "ok",
      instance: { address: "h:1", metadata: { blob: "x".repeat(4096 - 13) } },
    });
    expect(await keysUnder(env.client, prefix)).toBe(1);
    expect(ok.instance.metadata.blob?.length).toBe(4083);
  });
});
