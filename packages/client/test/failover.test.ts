import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EtcdCluster, startEtcdCluster } from "../../../test/support/etcd-process.js";
import { KeywayClient, type WatchEvent } from "../src/index.js";
import { preferring } from "./support/preferring.js";

let cluster: EtcdCluster;

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
});
afterAll(async () => {
  await cluster?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("failover on a 3-member etcd cluster", () => {
  it("moves the leader and reports the leader change seen in responses", async () => {
    await using client = new KeywayClient({ endpoints: cluster.endpoints });
    const before = await client.maintenance.status();
    const target = (await client.cluster.memberList()).find((m) => m.id !== before.leader);
    const changes: bigint[] = [];
    client.events.on("leader-changed", ({ raftTerm }) => changes.push(raftTerm));
    await client.maintenance.moveLeader(target?.id as bigint);
    const after = await client.maintenance.status();
    expect(after.leader).toBe(target?.id);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes[0]).toBeGreaterThan(before.raftTerm);
  });

  it("kill -9 of the member in use: reads continue, writes apply at most once, watch and lease survive", async () => {
    const victim = 0;
    const victimUrl = cluster.endpoints[victim] as string;
    await using client = new KeywayClient({ endpoints: cluster.endpoints, balancer: preferring(victimUrl) });
    await using checker = new KeywayClient({ endpoints: cluster.endpoints.slice(1) });
    await client.put("f/read", "r");

    const session = await client.session({ ttlSeconds: 4 });
    let sessionLost = false;
    session.on("lost", () => {
      sessionLost = true;
    });
    const watcher = await client.watch("f/w/", { prefix: true });
    const watchEndpoints: string[] = [];
    watcher.on("resumed", (info) => watchEndpoints.push(info.endpoint));
    const events: WatchEvent[] = [];
    const consuming = (async () => {
      for await (const event of watcher) events.push(event);
    })();

    let stop = false;
    const readErrors: unknown[] = [];
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        try {
          expect((await client.get("f/read"))?.text()).toBe("r");
          reads++;
        } catch (err) {
          readErrors.push(err);
        }
      }
    })();
    const acknowledged: string[] = [];
    const failed: string[] = [];
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const key = `f/w/${String(i).padStart(5, "0")}`;
        await client.put(key, String(i)).then(
          () => acknowledged.push(key),
          () => failed.push(key),
        );
      }
    })();

    await sleep(500);
    const killedAt = Date.now();
    await cluster.kill(victim);
    await sleep(2_500);
    stop = true;
    await Promise.all([reader, writer]);
    // The session must outlive its TTL after the kill.
    await sleep(Math.max(0, 4_500 - (Date.now() - killedAt)));

    expect(readErrors).toEqual([]);
    expect(reads).toBeGreaterThan(50);

    const stored = await checker.range("f/w/", { prefix: true });
    const storedKeys = new Set(stored.kvs.map((kv) => kv.keyText()));
    // Writes apply at most once (never retried once sent); every acknowledged one is there.
    expect(stored.kvs.every((kv) => kv.version === 1n)).toBe(true);
    for (const key of acknowledged) expect(storedKeys.has(key)).toBe(true);
    expect(acknowledged.length).toBeGreaterThan(50);
    expect(failed.length).toBeLessThan(5);

    // The watch resumed on another member and saw every stored write exactly once, in order.
    const expected = stored.kvs.map((kv) => `${kv.keyText()}@${kv.modRevision}`);
    const deadline = Date.now() + 10_000;
    while (events.length < expected.length && Date.now() < deadline) await sleep(20);
    expect(events.map((e) => `${e.kv.keyText()}@${e.kv.modRevision}`)).toEqual(expected);
    // Created on the victim (the picker prefers it), then resumed elsewhere.
    expect(watchEndpoints.length).toBeGreaterThan(0);
    expect(watchEndpoints.every((url) => url !== victimUrl)).toBe(true);

    expect(sessionLost).toBe(false);
    expect((await checker.lease.timeToLive(session.leaseId)).ttlSeconds).toBeGreaterThan(0n);
    await session.close();
    await watcher.close();
    await consuming;
  });

  it("a watch on a member that lost its leader is ended by require-leader and resumes later", async () => {
    await cluster.restart(0);
    const lonely = cluster.endpoints[0] as string;
    await using client = new KeywayClient({ endpoints: [lonely] });
    await using writer = new KeywayClient({ endpoints: cluster.endpoints });
    const watcher = await client.watch("f/leader/", { prefix: true });
    const disconnected = new Promise<unknown>((resolve) => watcher.once("disconnected", resolve));
    const before = await writer.put("f/leader/a", "1");
    await Promise.all([cluster.kill(1), cluster.kill(2)]);
    // Without hasleader the stream would stay open and silent; etcd ends it after ~3 election timeouts.
    expect(await disconnected).toMatchObject({ reason: "noLeader" });
    await Promise.all([cluster.restart(1), cluster.restart(2)]);
    const after = await writer.put("f/leader/b", "2");
    const events: bigint[] = [];
    for await (const event of watcher) {
      events.push(event.kv.modRevision);
      if (events.length === 2) break;
    }
    expect(events).toEqual([before.revision, after.revision]);
  });
});
