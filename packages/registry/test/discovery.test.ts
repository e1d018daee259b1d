import { KeywayClient } from "@keyway/client";
import { describe, expect, it } from "vitest";
import { useTarget } from "../../client/test/support/target.js";
import { until } from "../../lock/test/support/env.js";
import { type Instance, type ProtectThreshold, type Registration, registry } from "../src/index.js";
import { encodeInstance, toInstance } from "../src/instance.js";
import { record } from "./support/record.js";

const env = useTarget({ proxy: true });

const ids = (instances: readonly Instance[]) => instances.map((i) => i.id);

async function registerAll(service: string, count: number, zone = (n: number) => (n % 2 === 0 ? "a" : "b")) {
  const reg = registry(env.client);
  return Promise.all(
    Array.from({ length: count }, (_, n) =>
      reg.register({ service, instance: { id: `i${n}`, address: `10.0.0.${n}:80`, zone: zone(n) } }),
    ),
  );
}

/**
 * Six instances of `service` written raw, i0..i3 under one lease and i4, i5 under another; a
 * discovery with `protect` loads them, then the first lease is revoked, deleting four keys in one
 * revision as a mass expiry would. Returns once the discovery reported the removals up to the
 * threshold and the start of protection.
 */
async function massExpiry(service: string, protect: ProtectThreshold) {
  const few = (await env.client.lease.grant(60n)).id;
  const many = (await env.client.lease.grant(60n)).id;
  const put = (n: number, lease: bigint) =>
    env.client.put(
      `keyway/registry/services/${service}/i${n}`,
      encodeInstance(toInstance(service, { id: `i${n}`, address: `h:${n}` })),
      { lease },
    );
  for (let n = 0; n < 6; n++) await put(n, n < 4 ? many : few);
  const discovery = registry(env.client).discover(service, { protect });
  await discovery.ready;
  const log = record(discovery);
  discovery.on("protection", ({ active, live, peak }) => log.push(`protection:${active}:${live}/${peak}`));
  await env.client.lease.revoke(many);
  await until(() => log.length === 4, 5_000, "removals and protection");
  expect(log).toEqual(["removed:i0", "removed:i1", "removed:i2", "protection:true:2/6"]);
  return { discovery, log, put, few };
}

describe("discover", () => {
  it("loads the current instances, then follows registrations, updates and deregistrations", async () => {
    const registrations: Registration[] = await registerAll("cart", 3);
    await using discovery = registry(env.client).discover("cart");
    const log = record(discovery);
    await discovery.ready;
    expect(ids(discovery.instances())).toEqual(["i0", "i1", "i2"]);
    const late = await registry(env.client).register({
      service: "cart",
      instance: { id: "i3", address: "h:3" },
    });
    await (registrations[1] as Registration).update({ status: "draining" });
    await (registrations[0] as Registration).close();
    await until(() => log.length === 6, 5_000, "events");
    expect(log).toEqual(["added:i0", "added:i1", "added:i2", "added:i3", "updated:i1", "removed:i0"]);
    expect(discovery.instances().find((i) => i.id === "i1")?.status).toBe("draining");
    // pick() only returns `up` instances.
    const picked = new Set(Array.from({ length: 6 }, () => discovery.pick()?.instance.id));
    expect([...picked].sort()).toEqual(["i2", "i3"]);
    await Promise.all([late, ...registrations].map((r) => r.close()));
    await until(() => discovery.instances().length === 0, 5_000, "all removed");
    expect(discovery.pick()).toBeUndefined();
  });

  it("filters by zone, status and metadata; an instance leaving the filter is removed", async () => {
    const registrations = await registerAll("geo", 4);
    await using inA = registry(env.client).discover("geo", { filter: { zone: "a", status: "up" } });
    await using tagged = registry(env.client).discover("geo", { filter: { metadata: { canary: "yes" } } });
    await Promise.all([inA.ready, tagged.ready]);
    expect(ids(inA.instances())).toEqual(["i0", "i2"]);
    expect(tagged.instances()).toEqual([]);
    const log = record(inA);
    await (registrations[2] as Registration).update({ status: "down" });
    await (registrations[3] as Registration).update({ metadata: { canary: "yes" } });
    await until(() => log.length === 1 && tagged.instances().length === 1, 5_000, "filtered views");
    expect(log).toEqual(["removed:i2"]);
    expect(ids(tagged.instances())).toEqual(["i3"]);
    await Promise.all(registrations.map((r) => r.close()));
  });

  it("with zone affinity, picks the caller's zone and falls back to others when it empties", async () => {
    const registrations = await registerAll("zoned", 4);
    await using discovery = registry(env.client).discover("zoned", { zoneAffinity: { zone: "a" } });
    await discovery.ready;
    const picks = () => [...new Set(Array.from({ length: 8 }, () => discovery.pick()?.instance.id))].sort();
    expect(picks()).toEqual(["i0", "i2"]);
    await Promise.all([registrations[0]?.close(), registrations[2]?.close()]);
    await until(() => discovery.instances().length === 2, 5_000, "zone a to empty");
    expect(picks()).toEqual(["i1", "i3"]);
    await Promise.all(registrations.map((r) => r.close()));
  });

  it("skips values that are not registry instances and reports them", async () => {
    await using discovery = registry(env.client).discover("junk");
    const errors: unknown[] = [];
    discovery.on("error", (err) => errors.push(err));
    await discovery.ready;
    await env.client.put("keyway/registry/services/junk/x1", "not json");
    await using _valid = await registry(env.client).register({
      service: "junk",
      instance: { id: "x2", address: "h:2" },
    });
    await until(() => discovery.instances().length === 1, 5_000, "the valid instance");
    expect(ids(discovery.instances())).toEqual(["x2"]);
    expect(errors).toMatchObject([{ name: "RegistryError", reason: "corrupt" }]);
    await env.client.delete("keyway/registry/services/junk/x1");
  });

  it("converges after a disconnect during which history was compacted", async () => {
    const registrations = await registerAll("inventory", 3);
    await using discovery = registry(env.proxied).discover("inventory");
    const log = record(discovery);
    await discovery.ready;
    expect(ids(discovery.instances())).toEqual(["i0", "i1", "i2"]);
    env.proxy.setDown(true);
    try {
      await (registrations[0] as Registration).close();
      await (registrations[1] as Registration).update({ weight: 7 });
      const late = await registry(env.client).register({
        service: "inventory",
        instance: { id: "i9", address: "h:9" },
      });
      registrations.push(late);
      // Bury the changes under later revisions and compact them away.
      for (let n = 0; n < 5; n++) await env.client.put("filler", String(n));
      const head = await env.client.put("filler", "last");
      await env.client.compact(head.revision);
    } finally {
      env.proxy.setDown(false);
    }
    await until(() => ids(discovery.instances()).join() === "i1,i2,i9", 20_000, "convergence");
    expect(discovery.instances().find((i) => i.id === "i1")?.weight).toBe(7);
    // A resumed watch would replay in revision order (removed:i0 first); a re-list after the
    // compaction emits the difference in listing order, removals last.
    expect(log.slice(3)).toEqual(["updated:i1", "added:i9", "removed:i0"]);
    await Promise.all(registrations.slice(1).map((r) => r.close()));
  });

  it("with a protect threshold, holds removals during a mass expiry and releases them on recovery", async () => {
    const { discovery, log, put, few } = await massExpiry("payments", { threshold: 0.5 });
    expect(ids(discovery.instances())).toEqual(["i3", "i4", "i5"]);
    // One comes back: live is at the threshold again, and the held instance goes.
    await put(0, few);
    await until(() => log.length === 7, 5_000, "protection to end");
    expect(log.slice(4)).toEqual(["added:i0", "protection:false:3/6", "removed:i3"]);
    expect(ids(discovery.instances())).toEqual(["i0", "i4", "i5"]);
    await discovery.close();
    await env.client.lease.revoke(few);
  });

  it("a protect threshold ends after maxHoldMs even when nothing changes", async () => {
    const protect = { threshold: 0.5, windowMs: 1_000, maxHoldMs: 1_000 };
    const { discovery, log, few } = await massExpiry("refunds", protect);
    const started = Date.now();
    await until(() => log.length === 6, 5_000, "protection to time out");
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(log.slice(4)).toEqual(["protection:false:2/6", "removed:i3"]);
    expect(ids(discovery.instances())).toEqual(["i4", "i5"]);
    await discovery.close();
    await env.client.lease.revoke(few);
  });

  it("stops, reporting the error once, when its client is closed under it", async () => {
    const client = new KeywayClient({ endpoints: env.target.endpoints });
    const discovery = registry(client).discover("cart");
    const errors: unknown[] = [];
    discovery.on("error", (err) => errors.push(err));
    await discovery.ready;
    await client.close();
    await until(() => errors.length > 0, 5_000, "the error");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(errors).toMatchObject([{ reason: "closed" }]);
    await discovery.close();
  });

  it("ready rejects when closed before the first listing", async () => {
    const discovery = registry(env.client).discover("never");
    const closing = discovery.close();
    await expect(discovery.ready).rejects.toMatchObject({ reason: "closed" });
    await closing;
  });
});
