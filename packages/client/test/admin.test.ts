import { describe, expect, it } from "vitest";
import { KeywayClient } from "../src/index.js";
import { expectUnimplemented, pending, useTarget } from "./support/target.js";

const env = useTarget();

describe("cluster and maintenance", () => {
  it("lists members and reports status", async () => {
    const members = await env.client.cluster.memberList();
    expect(members).toHaveLength(1);
    expect(members[0]?.clientUrls).toContain(env.target.endpoints[0]);
    const status = await env.client.maintenance.status({ endpoint: env.target.endpoints[0] as string });
    expect(status.leader).toBe(status.memberId);
    expect(status.memberId).toBe(members[0]?.id);
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(status.dbSizeBytes).toBeGreaterThan(0n);
  });

  it("adds, fails to promote, and removes a learner with typed errors", async () => {
    if (pending("membership")) {
      return expectUnimplemented(() =>
        env.client.cluster.memberAdd(["http://127.0.0.1:1"], { isLearner: true }),
      );
    }
    const { member } = await env.client.cluster.memberAdd(["http://127.0.0.1:1"], { isLearner: true });
    expect(member?.isLearner).toBe(true);
    const id = member?.id as bigint;
    await expect(env.client.cluster.memberPromote(id)).rejects.toMatchObject({ reason: "learnerNotReady" });
    const remaining = await env.client.cluster.memberRemove(id);
    expect(remaining.map((m) => m.id)).not.toContain(id);
    await expect(env.client.cluster.memberRemove(id)).rejects.toMatchObject({ reason: "memberNotFound" });
  });

  it("hashes, lists alarms and defragments", async () => {
    const put = await env.client.put("admin/k", "v");
    const kvHash = await env.client.maintenance.hashKV(put.revision);
    expect(kvHash.header.revision).toBeGreaterThanOrEqual(put.revision);
    expect(kvHash.hash).toBe((await env.client.maintenance.hashKV(put.revision)).hash);
    expect(typeof (await env.client.maintenance.hash())).toBe("number");
    expect(await env.client.maintenance.alarms()).toEqual([]);
    await env.client.maintenance.defragment({ endpoint: env.target.endpoints[0] as string });
  });

  it("streams a snapshot", async () => {
    if (pending("snapshot")) return expectUnimplemented(() => env.client.maintenance.snapshot());
    await env.client.put("admin/s", "v");
    let size = 0;
    for await (const chunk of env.client.maintenance.snapshot()) size += chunk.length;
    expect(size % 512).toBe(32); // the database pages plus etcd's SHA-256 trailer
  });

  it("syncs endpoints from the member list", async () => {
    await using other = new KeywayClient({ endpoints: [`${env.target.endpoints[0]}/`] });
    const changed = new Promise<readonly string[]>((resolve) =>
      other.events.once("endpoints-changed", resolve),
    );
    expect(await other.syncEndpoints()).toEqual(env.target.endpoints);
    expect(await changed).toEqual(env.target.endpoints);
  });
});
