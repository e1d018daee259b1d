import { setTimeout as sleep } from "node:timers/promises";
import { KeywayClient } from "@keyway/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KeywayCluster, startKeywayCluster } from "../support/keyway-cluster.js";

/** Members of a 3-member cluster, as real processes: elections, replication, reads, leases. */
describe("a 3-member Keyway cluster", () => {
  let cluster: KeywayCluster;
  const clients: KeywayClient[] = [];
  /** A client bound to one member only. */
  const on = (index: number) => {
    const client = new KeywayClient({
      endpoints: [cluster.endpoints[index] as string],
      retry: { retries: 0 },
    });
    clients.push(client);
    return client;
  };
  /** A client of every member, for calls aimed at one (`endpoint`). */
  const admin = () => {
    const client = new KeywayClient({ endpoints: cluster.endpoints, retry: { retries: 0 } });
    clients.push(client);
    return client;
  };
  const statuses = () => {
    const client = admin();
    return Promise.all(
      cluster.endpoints.map((endpoint) => client.maintenance.status({ endpoint, timeoutMs: 2_000 })),
    );
  };
  const leaderIndex = async () => {
    const client = admin();
    for (;;) {
      const all = await Promise.allSettled(
        cluster.endpoints.map((endpoint) => client.maintenance.status({ endpoint, timeoutMs: 2_000 })),
      );
      const ids = all.map((s) => (s.status === "fulfilled" ? s.value.memberId : 0n));
      const lead = all.find((s) => s.status === "fulfilled" && s.value.leader !== 0n);
      const index = lead?.status === "fulfilled" ? ids.indexOf(lead.value.leader) : -1;
      if (index >= 0) return index;
      await sleep(200);
    }
  };

  beforeAll(async () => {
    cluster = await startKeywayCluster(3);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.close();
  });

  it("elects one leader that every member follows, at one term", async () => {
    const all = await statuses();
    const leaders = new Set(all.map((s) => s.leader));
    expect(leaders.size).toBe(1);
    expect(all.map((s) => s.memberId)).toContain([...leaders][0]);
    expect(new Set(all.map((s) => s.raftTerm)).size).toBe(1);
  });

  it("answers a write made on a follower, and every member reads it linearizably at once", async () => {
    const lead = await leaderIndex();
    const follower = (lead + 1) % 3;
    const other = (lead + 2) % 3;
    const put = await on(follower).kv.put("from-follower", "v1");
    for (const index of [lead, follower, other]) {
      const kv = await on(index).kv.get("from-follower");
      expect(kv?.value.toString()).toBe("v1");
      expect(kv?.modRevision).toBe(put.header.revision);
    }
  });

  it("keeps every acknowledged write through a kill -9 of the leader, and the restarted member catches up", async () => {
    const lead = await leaderIndex();
    const writer = new KeywayClient({ endpoints: cluster.endpoints });
    clients.push(writer);
    const acked: string[] = [];
    let stop = false;
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await writer.kv.put(`load/${i}`, `${i}`, { timeoutMs: 3_000 });
          acked.push(`load/${i}`);
        } catch {
          // Unknown outcome while the leader is down; only acknowledged writes are checked.
        }
      }
    })();
    await sleep(1_000);
    await cluster.kill(lead);
    await sleep(3_000);
    const during = acked.length;
    await cluster.restart(lead);
    await sleep(1_000);
    stop = true;
    await load;
    expect(acked.length).toBeGreaterThan(during);
    const newLead = await leaderIndex();
    expect(newLead).toBeGreaterThanOrEqual(0);
    // Every member, the restarted one included, holds every acknowledged write and the same history.
    const revision = (await on(newLead).kv.put("barrier", "x")).header.revision;
    for (let index = 0; index < 3; index++) {
      const keys = new Set(
        (await on(index).kv.range("load/", { prefix: true, keysOnly: true })).kvs.map((kv) =>
          kv.key.toString(),
        ),
      );
      expect(
        acked.filter((key) => !keys.has(key)),
        `member ${index}`,
      ).toEqual([]);
    }
    const client = admin();
    const hashes = await Promise.all(
      cluster.endpoints.map((endpoint) => client.maintenance.hashKV(revision, { endpoint })),
    );
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1);
  }, 60_000);

  it("hands leadership over with MoveLeader while the leader is busy with writes", async () => {
    const lead = await leaderIndex();
    const target = (lead + 1) % 3;
    const targetId = (await on(target).maintenance.status()).memberId;
    // Writes keep the leader's Raft loop busy, so the transfer arrives while a Ready is out.
    const writer = on(lead);
    let stop = false;
    const load = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stop; i++) await writer.kv.put(`move/${w}/${i}`, "x").catch(() => undefined);
      }),
    );
    await sleep(200);
    try {
      await admin().maintenance.moveLeader(targetId, { endpoint: cluster.endpoints[lead] as string });
    } finally {
      stop = true;
      await load;
    }
    const all = await statuses();
    expect(all.every((s) => s.leader === targetId)).toBe(true);
  });

  it("keeps a lease alive through keep-alives sent to a follower, across a change of leader", async () => {
    const lead = await leaderIndex();
    const follower = (lead + 1) % 3;
    const client = on(follower);
    const lease = await client.lease.grant(3);
    await client.kv.put("leased", "v", { lease: lease.id });
    const keepAlive = await client.lease.keepAlive(lease.id);
    await sleep(5_000);
    expect((await client.lease.timeToLive(lease.id)).ttlSeconds).toBeGreaterThan(0n);
    await admin().maintenance.moveLeader((await on(follower).maintenance.status()).memberId, {
      endpoint: cluster.endpoints[lead] as string,
    });
    await sleep(4_000);
    expect((await client.kv.get("leased"))?.value.toString()).toBe("v");
    // Without keep-alives the new leader expires it: the key goes with it.
    await keepAlive.close();
    await sleep(6_000);
    expect(await client.kv.get("leased")).toBeUndefined();
  }, 30_000);

  it("delivers the leader's writes to a watch on a follower, in order", async () => {
    const lead = await leaderIndex();
    const follower = (lead + 1) % 3;
    const watcher = await on(follower).watch("w/", { prefix: true });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of watcher) {
        seen.push(event.kv.value.toString());
        if (seen.length === 20) break;
      }
    })();
    for (let i = 0; i < 20; i++) await on(lead).kv.put(`w/${i % 3}`, `${i}`);
    await reading;
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `${i}`));
  });
});
