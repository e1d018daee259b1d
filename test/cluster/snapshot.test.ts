import { KeywayClient } from "@keyway/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KeywayCluster, startKeywayCluster } from "../support/keyway-cluster.js";

/** Writes `count` keys under `prefix`, `concurrency` at a time. */
async function writeMany(
  client: KeywayClient,
  prefix: string,
  count: number,
  concurrency = 64,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await client.kv.put(`${prefix}${i}`, `value-${i}`);
      }
    }),
  );
}

/** A member so far behind that the leader's log no longer has its entries gets a snapshot. */
describe("a Keyway member that falls behind the compacted log", () => {
  let cluster: KeywayCluster;
  const clients: KeywayClient[] = [];
  const client = (endpoints: string[]) => {
    const c = new KeywayClient({ endpoints });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    cluster = await startKeywayCluster(3, ["--snapshot-count=500"]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.close();
  });

  it("is restored from the leader's state machine and then follows the log", async () => {
    const admin = client(cluster.endpoints);
    const statusOf = (endpoint: string) => admin.maintenance.status({ endpoint });
    const statuses = await Promise.all(cluster.endpoints.map(statusOf));
    const lead = statuses.findIndex((s) => s.memberId === s.leader);
    const behind = (lead + 1) % 3;
    const up = cluster.endpoints.filter((_, i) => i !== behind);
    await cluster.kill(behind);
    // Past a checkpoint and the 5000 entries kept for catch-up: the log the member needs is gone.
    const writer = client(up);
    const lease = await writer.lease.grant(600);
    await writer.kv.put("leased", "x", { lease: lease.id });
    await writer.kv.put("deleted", "x");
    await writer.kv.delete("deleted");
    await writeMany(writer, "bulk/", 6_000);
    await cluster.restart(behind);
    // It serves the state it was given, and the writes that follow.
    const after = (await writer.kv.put("after", "y")).header.revision;
    const restored = client([cluster.endpoints[behind] as string]);
    expect((await restored.kv.get("after"))?.value.toString()).toBe("y");
    expect((await restored.kv.range("bulk/", { prefix: true, countOnly: true })).count).toBe(6_000n);
    expect(await restored.kv.get("deleted")).toBeUndefined();
    expect((await restored.lease.timeToLive(lease.id, { keys: true })).keys.map(String)).toEqual(["leased"]);
    const hashes = await Promise.all(
      cluster.endpoints.map((endpoint) => admin.maintenance.hashKV(after, { endpoint })),
    );
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1);
    // The restore went through a snapshot, not the log.
    const log = cluster.members[behind]?.process?.output() ?? "";
    expect(log).toContain("installed a snapshot from the leader");
  }, 120_000);
});
