import { fileURLToPath } from "node:url";
import { KeywayClient } from "@keyway/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EtcdCluster, startEtcdCluster } from "../../../test/support/etcd-process.js";
import { preferring } from "../../client/test/support/preferring.js";
import { startTcpProxy } from "../../client/test/support/tcp-proxy.js";
import { background } from "../../lock/test/support/background.js";
import { sleep, until } from "../../lock/test/support/env.js";
import { type Discovery, type Registration, registry } from "../src/index.js";

const INSTANCE = fileURLToPath(new URL("./support/instance-process.mjs", import.meta.url));
// 5 s, not etcd's 2 s minimum: the kill of the member in use may cost an election, and on a
// loaded 2-core CI machine TTL 3 s once lost its lease (failover within TTL/3 plus a slow
// reconnect); the assertions stay the same.
const TTL = 5;

let cluster: EtcdCluster;
let checker: KeywayClient;

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
  // Reads the store through the members the faults do not touch.
  checker = new KeywayClient({ endpoints: cluster.endpoints.slice(1) });
});
afterAll(async () => {
  await checker?.close();
  await cluster?.close();
});

const ids = (discovery: Discovery) =>
  discovery
    .instances()
    .map((i) => i.id)
    .join();

/** Every `registered` event (re-registration) and `error` of a registration from now on. */
function watchChurn(registration: Registration) {
  const churn: string[] = [];
  registration.on("registered", (info) => churn.push(`registered:${info.cause}`));
  registration.on("error", (err) => churn.push(`error:${String(err)}`));
  return churn;
}

/**
 * Registers `service/<id>` through `client` (TTL 5 s) and discovers the service through it too,
 * then runs `fault` for longer than the TTL while another instance registers through healthy
 * members. The key must keep its lease and its first write (no re-registration), and discovery,
 * though its member failed, must see the other instance.
 */
async function survives(client: KeywayClient, service: string, fault: () => Promise<void>) {
  const registration = await registry(client).register({
    service,
    instance: { id: "a", address: "h:1" },
    ttlSeconds: TTL,
  });
  const churn = watchChurn(registration);
  const leaseId = registration.leaseId;
  const discovery = registry(client).discover(service);
  await discovery.ready;
  await fault();
  const other = await registry(checker).register({
    service,
    instance: { id: "b", address: "h:2" },
    ttlSeconds: TTL,
  });
  await sleep(TTL * 1000 + 1500);
  const kv = await checker.get(registration.key);
  expect(kv?.lease).toBe(leaseId);
  expect(kv?.version).toBe(1n);
  expect(churn).toEqual([]);
  expect((await checker.lease.timeToLive(leaseId as bigint)).ttlSeconds).toBeGreaterThan(0n);
  await until(() => ids(discovery) === "a,b", 5_000, "discovery of the other instance");
  return { registration, discovery, other };
}

describe("registry on a 3-member etcd cluster", () => {
  it("kill -9 of the member in use: the key keeps its lease; discovery converges after the restart", async () => {
    const victim = cluster.endpoints[0] as string;
    await using client = new KeywayClient({ endpoints: cluster.endpoints, balancer: preferring(victim) });
    const { registration, discovery, other } = await survives(client, "killed", () => cluster.kill(0));
    await cluster.restart(0);
    // Changes after the restart reach the discovery whichever member it now uses.
    await other.close();
    const late = await registry(checker).register({
      service: "killed",
      instance: { id: "c", address: "h:3" },
    });
    await until(() => ids(discovery) === "a,c", 10_000, "convergence after the restart");
    const listed = await checker.range("keyway/registry/services/killed/", { prefix: true });
    expect(listed.kvs.map((kv) => kv.keyText().split("/").pop()).join()).toBe("a,c");
    await Promise.all([late.close(), registration.close(), discovery.close()]);
  });

  it("a stalled member (silent, connections open): the key keeps its lease, no re-registration", async () => {
    const proxy = await startTcpProxy(cluster.endpoints[0] as string);
    try {
      await using client = new KeywayClient({
        endpoints: [proxy.url, ...cluster.endpoints.slice(1)],
        balancer: preferring(proxy.url),
      });
      const { registration, discovery, other } = await survives(client, "stalled", async () =>
        proxy.setStall(true),
      );
      proxy.setStall(false);
      await Promise.all([other.close(), registration.close(), discovery.close()]);
    } finally {
      await proxy.close();
    }
  });

  it("an instance process killed with kill -9 leaves discovery within its TTL", async () => {
    await using discovery = registry(checker).discover("crashy");
    await discovery.ready;
    const instance = background(process.execPath, [INSTANCE], {
      INSTANCE: JSON.stringify({ endpoints: cluster.endpoints, service: "crashy", id: "p1", ttlSeconds: 2 }),
    });
    try {
      await instance.waitLine((line) => line.includes("registered"));
      await until(() => ids(discovery) === "p1", 5_000, "the instance to appear");
      const removed = new Promise<number>((resolve) => discovery.once("removed", () => resolve(Date.now())));
      const killedAt = Date.now();
      instance.child.kill("SIGKILL");
      const gone = (await removed) - killedAt;
      // The lease expires at most one TTL after the last renewal (sent every TTL/3) plus etcd's
      // expiry check (500 ms) and the watch's delivery — and no earlier than TTL minus one
      // renewal interval (so it is the lease that removed it). Measured: about 2.3 s.
      expect(gone).toBeGreaterThan(2000 - 2000 / 3 - 100);
      expect(gone).toBeLessThan(2000 + 2000);
    } finally {
      await instance.stop("SIGKILL");
    }
  });
});
