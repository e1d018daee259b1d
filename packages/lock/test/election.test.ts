import { op } from "@keyway/client";
import { describe, expect, it } from "vitest";
import { type Leader, type LockError, locks } from "../src/index.js";
import { keysUnder, until, useSessions, useTarget } from "./support/env.js";

const env = useTarget();
const session = useSessions(() => env.client);

describe("election", () => {
  it("campaign, leader, proclaim and resign with Go's layout; the next candidate takes over", async () => {
    const [a, b] = [await session(), await session()];
    const ea = locks(env.client).election("elect/a", { session: a });
    const eb = locks(env.client).election("elect/a", { session: b });
    await expect(ea.leader()).rejects.toMatchObject({ reason: "noLeader" });
    await ea.campaign("alpha");
    expect(ea.isLeader).toBe(true);
    const kv = await env.client.get(`elect/a/${a.leaseId.toString(16)}`);
    expect(kv?.text()).toBe("alpha");
    expect(kv?.lease).toBe(a.leaseId);
    expect(ea.fencingToken).toBe(kv?.createRevision);

    const waiting = new Promise((resolve) => eb.once("waiting", resolve));
    let bElected = false;
    const bCampaign = eb.campaign("beta").then(() => {
      bElected = true;
    });
    await waiting;
    await ea.proclaim("alpha-2");
    const leader = await eb.leader();
    expect(leader.value.toString()).toBe("alpha-2");
    expect(leader.lease).toBe(a.leaseId);
    expect(bElected).toBe(false);
    await expect(eb.proclaim("x")).rejects.toMatchObject({ reason: "notHeld" });
    await ea.campaign("alpha-3"); // campaigning again while leading proclaims, as in Go
    expect((await eb.leader()).value.toString()).toBe("alpha-3");

    await ea.resign();
    expect(ea.isLeader).toBe(false);
    await bCampaign;
    expect((await ea.leader()).value.toString()).toBe("beta");
    expect(eb.fencingToken).toBeGreaterThan(kv?.createRevision ?? 0n);
    await ea.resign(); // not leading: nothing to do, as in Go
    await eb.resign();
    expect(await keysUnder(env.client, "elect/a/")).toBe(0);
  });

  it("observe yields the leader, its proclaims and each successor in order", async () => {
    const [a, b, c] = [await session(), await session(), await session()];
    const lock = locks(env.client);
    const observer = lock.election("elect/b", { session: c });
    const seen: string[] = [];
    const changed: Leader[] = [];
    observer.on("leader-changed", (leader) => changed.push(leader));
    const controller = new AbortController();
    const observing = (async () => {
      for await (const leader of observer.observe({ signal: controller.signal }))
        seen.push(leader.value.toString());
    })();
    const ea = lock.election("elect/b", { session: a });
    const eb = lock.election("elect/b", { session: b });
    await ea.campaign("one");
    await until(() => seen.length === 1, 5_000, "first leader observed");
    await ea.proclaim("one-bis");
    const bCampaign = eb.campaign("two");
    await until(async () => (await keysUnder(env.client, "elect/b/")) === 2, 5_000, "second candidate");
    await ea.resign();
    await bCampaign;
    await until(() => seen.length === 3, 5_000, "successor observed");
    controller.abort();
    await observing;
    expect(seen).toEqual(["one", "one-bis", "two"]);
    expect(changed.map((l) => l.value.toString())).toEqual(seen);
    await eb.resign();
  });

  it("reports lost leadership and refuses guarded writes; resign after the loss reports it", async () => {
    const a = await session();
    const e = locks(env.client).election("elect/c", { session: a });
    const lost = new Promise<LockError>((resolve) => e.once("lost", resolve));
    await e.campaign("me");
    const fence = e.isOwner();
    await env.client.delete(e.key);
    expect((await lost).reason).toBe("lost");
    expect(e.signal?.aborted).toBe(true);
    expect(e.isLeader).toBe(false);
    expect((await env.client.txn().if(fence).then(op.put("elect/c-data", "x")).commit()).succeeded).toBe(
      false,
    );
    await expect(e.proclaim("again")).rejects.toMatchObject({ reason: "lost" });
    await expect(e.resign()).rejects.toMatchObject({ reason: "lost" });
  });

  it("an aborted campaign withdraws the candidacy", async () => {
    const [a, b] = [await session(), await session()];
    const lock = locks(env.client);
    const leader = lock.election("elect/d", { session: a });
    await leader.campaign("first");
    const controller = new AbortController();
    const candidate = lock.election("elect/d", { session: b });
    const waiting = new Promise((resolve) => candidate.once("waiting", resolve));
    const campaign = candidate.campaign("second", { signal: controller.signal });
    await waiting;
    controller.abort();
    await expect(campaign).rejects.toMatchObject({ reason: "aborted" });
    expect(await keysUnder(env.client, "elect/d/")).toBe(1);
    await expect(candidate.campaign("x", { timeoutMs: 200 })).rejects.toMatchObject({ reason: "timeout" });
    expect(await keysUnder(env.client, "elect/d/")).toBe(1);
    await expect(candidate.campaign(5 as never)).rejects.toMatchObject({ reason: "badRequest" });
    await leader.resign();
  });
});
