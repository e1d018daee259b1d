import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type EtcdCluster, startEtcdCluster } from "../../../test/support/etcd-process.js";
import { KeywayClient } from "../src/index.js";
import { take } from "./support/collect.js";
import { preferring } from "./support/preferring.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

// A 3-member etcd cluster; the client reaches members 0 (A) and 1 (B) through proxies that can
// stall: connections stay open, nothing is forwarded. The cluster itself stays healthy.
let cluster: EtcdCluster;
let proxies: TcpProxy[];

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
  proxies = await Promise.all(cluster.endpoints.slice(0, 2).map((e) => startTcpProxy(e)));
});
afterEach(() => {
  for (const proxy of proxies) {
    proxy.setStall(false);
    proxy.setDelay(0);
  }
});
afterAll(async () => {
  await Promise.all(proxies?.map((p) => p.close()) ?? []);
  await cluster?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("liveness when a member goes silent", () => {
  it("a session, reads, writes and a watch get through a stalled member: the lease lives on, nothing is sent twice", async () => {
    const [a, b] = proxies as [TcpProxy, TcpProxy];
    await using client = new KeywayClient({ endpoints: [a.url, b.url], balancer: preferring(a.url) });
    await using direct = new KeywayClient({ endpoints: [cluster.endpoints[1] as string] });
    await client.put("stall/k", "v");
    const ttlMs = 5_000;
    const session = await client.session({ ttlSeconds: ttlMs / 1000 });
    let lost = false;
    session.on("lost", () => {
      lost = true;
    });
    await new Promise((resolve) => session.once("renewed", resolve));
    const watcher = await client.watch("stall/w/", { prefix: true });

    const stalledAt = Date.now();
    a.setStall(true);
    // Both go to A, which no one knows is silent yet. The read moves on after one attempt
    // timeout; the write may have reached A, so it is never re-sent to B.
    const [read, write] = await Promise.allSettled([
      client.get("stall/k", { timeoutMs: 4_000 }),
      client.put("stall/once", "x", { timeoutMs: 3_000 }),
    ]);
    expect(read.status === "fulfilled" && read.value?.text()).toBe("v");
    expect(write).toMatchObject({ status: "rejected", reason: { reason: "timeout" } });
    expect(await direct.get("stall/once")).toBeUndefined();

    // Three TTLs later the session's lease is still alive on the server, renewed through B.
    await sleep(Math.max(0, stalledAt + 3 * ttlMs - Date.now()));
    expect((await direct.lease.timeToLive(session.leaseId)).ttlSeconds).toBeGreaterThan(0n);
    expect(lost).toBe(false);
    const started = Date.now();
    expect((await client.get("stall/k", { timeoutMs: 4_000 }))?.text()).toBe("v");
    expect(Date.now() - started).toBeLessThan(1_000); // A is avoided now, not tried first
    // The watch left A when the HTTP/2 keepalive dropped the silent connection (≤ ~8 s).
    const put = await direct.put("stall/w/a", "1");
    expect((await take(watcher, 1, 3_000))[0]?.kv.modRevision).toBe(put.revision);
    await watcher.close();
    await session.close();
    expect((await direct.lease.timeToLive(session.leaseId)).ttlSeconds).toBe(-1n);

    // Once A answers again, the write held in its buffers applies at most once.
    a.setStall(false);
    expect((await direct.get("stall/once"))?.version ?? 0n).toBeLessThanOrEqual(1n);
  }, 30_000);

  it("with every member silent, the session is lost one TTL after its last answered renewal was sent", async () => {
    const [a, b] = proxies as [TcpProxy, TcpProxy];
    // Answers take 400 ms to come back, so "sent" and "answered" are far apart.
    const answerDelayMs = 400;
    a.setDelay(answerDelayMs);
    b.setDelay(answerDelayMs);
    await using client = new KeywayClient({ endpoints: [a.url, b.url] });
    await using direct = new KeywayClient({ endpoints: cluster.endpoints });
    const ttlMs = 3_000;
    const session = await client.session({ ttlSeconds: ttlMs / 1000 });
    // (The first renewal may wait for a new connection: its answer comes later than the delay.)
    await new Promise((resolve) => session.once("renewed", resolve));
    // Right after a renewal's answer arrives, both members go silent.
    const answeredAt = await new Promise<number>((resolve) =>
      session.once("renewed", () => {
        a.setStall(true);
        b.setStall(true);
        resolve(Date.now());
      }),
    );
    const lostAt = await new Promise<number>((resolve) => session.once("lost", () => resolve(Date.now())));
    // The renewal was sent ~answerDelayMs before its answer: the lease is lost a TTL after that,
    // not a TTL after the answer (when the server may already have expired it).
    const sinceAnswerMs = lostAt - answeredAt;
    expect(sinceAnswerMs).toBeLessThanOrEqual(ttlMs - answerDelayMs + 200); // timer slack on a busy box
    expect(sinceAnswerMs).toBeGreaterThanOrEqual(ttlMs - answerDelayMs - 300);
    expect(session.signal.aborted).toBe(true);
    // And not much earlier than the server: it expires the lease soon after.
    const deadline = lostAt + 1_500;
    while ((await direct.lease.timeToLive(session.leaseId)).ttlSeconds >= 0n) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(50);
    }
  }, 20_000);

  it("a session whose grant comes back later than its TTL is not handed out as live", async () => {
    const [a] = proxies as [TcpProxy];
    // Attempts wait for the slow answers instead of granting twice.
    await using client = new KeywayClient({ endpoints: [a.url], attemptTimeoutMs: 5_000 });
    await client.get("stall/k"); // connected before answers slow down
    a.setDelay(2_200);
    // etcd's smallest TTL is 2 s: the lease may be gone before the client even learns its id.
    await expect(client.session({ ttlSeconds: 2 })).rejects.toMatchObject({ reason: "leaseLost" });
  }, 15_000);
});
