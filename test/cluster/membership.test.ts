import { KeywayClient } from "@keyway/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterMember, type KeywayCluster, startKeywayCluster } from "../support/keyway-cluster.js";

/**
 * Membership changes end to end on real processes: a member joins a running cluster under write
 * load, a learner joins and is promoted, a follower and the leader are removed. The tests run
 * in order on one cluster (3 members, then 4, 5, 4, 3).
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client writing `load/<n>` continuously; `stop` returns the keys whose put was acknowledged. */
function startWriter(endpoints: string[]): { stop(): Promise<string[]> } {
  const client = new KeywayClient({ endpoints, defaultTimeoutMs: 5_000 });
  const acked: string[] = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const key = `load/${i}`;
      try {
        await client.put(key, `v${i}`);
        acked.push(key);
      } catch {
        // Unacknowledged (a leader change, the removed member): may or may not be there.
        await sleep(50);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      await client.close();
      return acked;
    },
  };
}

/** Polls `check` until it returns without throwing, for at most `timeoutMs`. */
async function eventually<T>(what: string, check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`);
      await sleep(200);
    }
  }
}

/** A client of one member only (status, hashes and lists come from that member). */
async function withMember<T>(endpoint: string, use: (client: KeywayClient) => Promise<T>): Promise<T> {
  const client = new KeywayClient({ endpoints: [endpoint], defaultTimeoutMs: 5_000 });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** Every running member's HashKV at one revision, equal on all. */
async function sameHashEverywhere(cluster: KeywayCluster): Promise<void> {
  await eventually("HashKV equal on every member at the same revision", async () => {
    const hashes = await Promise.all(
      cluster.live().map((endpoint) => withMember(endpoint, (c) => c.maintenance.hashKV(0n))),
    );
    const revisions = new Set(hashes.map((h) => h.header.revision));
    const values = new Set(hashes.map((h) => h.hash));
    if (revisions.size !== 1 || values.size !== 1)
      throw new Error(`revisions ${[...revisions]}, hashes ${[...values]}`);
  });
}

/** Asserts every running member lists exactly `names`, each started (named, with client URLs). */
async function everyMemberLists(cluster: KeywayCluster, names: readonly string[]): Promise<void> {
  await eventually(`every member lists ${names}`, async () => {
    for (const endpoint of cluster.live()) {
      const members = await withMember(endpoint, (c) => c.cluster.memberList());
      expect(members.map((m) => m.name).sort()).toEqual([...names].sort());
      for (const m of members)
        expect(m.clientUrls).toEqual([cluster.members.find((x) => x.name === m.name)?.endpoint]);
    }
  });
}

/** The acknowledged keys are all there, read linearizably through `endpoint`. */
async function noAckedWriteLost(endpoint: string, acked: readonly string[]): Promise<void> {
  expect(acked.length).toBeGreaterThan(10);
  const present = await withMember(endpoint, (c) => c.range("load/", { prefix: true, keysOnly: true }));
  const keys = new Set(present.kvs.map((kv) => kv.key.toString()));
  expect(acked.filter((key) => !keys.has(key))).toEqual([]);
}

async function memberId(endpoint: string): Promise<bigint> {
  return withMember(endpoint, async (c) => (await c.maintenance.status()).memberId);
}

async function leaderOf(endpoint: string): Promise<bigint> {
  return withMember(endpoint, async (c) => (await c.maintenance.status()).leader);
}

/** The member whose process runs and whose id is `id`. */
async function memberById(cluster: KeywayCluster, id: bigint): Promise<ClusterMember> {
  for (const m of cluster.members)
    if (m.process !== undefined && (await memberId(m.endpoint)) === id) return m;
  throw new Error(`no running member ${id.toString(16)}`);
}

/** Removes `victim` through another member and checks its process exits with etcd's message. */
async function removeMember(cluster: KeywayCluster, victim: ClusterMember): Promise<void> {
  const id = await memberId(victim.endpoint);
  const other = cluster.members.find((m) => m !== victim && m.process !== undefined) as ClusterMember;
  const exited = new Promise<number | null>((resolve) => victim.process?.child.once("exit", resolve));
  await withMember(other.endpoint, (c) => c.cluster.memberRemove(id));
  const code = await Promise.race([exited, sleep(15_000).then(() => "still running")]);
  expect(code).not.toBe("still running");
  // As etcd 3.4: a removed member stops with status 0 (test/compat/etcdctl-members compares).
  expect(code).toBe(0);
  expect(victim.process?.output()).toContain("the member has been permanently removed from the cluster");
  victim.process = undefined;
}

describe("membership changes on a running Keyway cluster", () => {
  let cluster: KeywayCluster;
  beforeAll(async () => {
    cluster = await startKeywayCluster(3);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it("a member added under write load joins, catches up and is listed as started everywhere", async () => {
    const writer = startWriter(cluster.live());
    await sleep(500);
    const joiner = await cluster.prepare("m4");
    const added = await withMember(cluster.members[0]!.endpoint, (c) =>
      c.cluster.memberAdd([joiner.peerUrl]),
    );
    expect(added.member?.name).toBe("");
    expect(added.members).toHaveLength(4);
    await cluster.join(joiner);
    expect(await memberId(joiner.endpoint)).toBe(added.member?.id);
    // The leader compacted its log at the MemberAdd: the joiner starts from its snapshot.
    expect(joiner.process?.output()).toContain("installed a snapshot from the leader");
    await sleep(1_000);
    const acked = await writer.stop();
    await sameHashEverywhere(cluster);
    await everyMemberLists(cluster, ["m1", "m2", "m3", "m4"]);
    await noAckedWriteLost(joiner.endpoint, acked);
  });

  it("a learner joins, is promoted, and then counts for the quorum", async () => {
    const learner = await cluster.prepare("m5");
    const added = await withMember(cluster.members[0]!.endpoint, (c) =>
      c.cluster.memberAdd([learner.peerUrl], { isLearner: true }),
    );
    expect(added.member?.isLearner).toBe(true);
    const id = added.member?.id as bigint;
    // Not started, so far behind the leader: etcd's learnerNotReady, through a follower too.
    for (const endpoint of cluster.live()) {
      await expect(withMember(endpoint, (c) => c.cluster.memberPromote(id))).rejects.toThrow(
        "can only promote a learner member which is in sync with leader",
      );
    }
    await cluster.join(learner);
    const status = await withMember(learner.endpoint, (c) => c.maintenance.status());
    expect(status.isLearner).toBe(true);
    await sameHashEverywhere(cluster);
    await eventually("promote the learner", () =>
      withMember(cluster.members[0]!.endpoint, (c) => c.cluster.memberPromote(id)),
    );
    await everyMemberLists(cluster, ["m1", "m2", "m3", "m4", "m5"]);
    const listed = await withMember(learner.endpoint, (c) => c.cluster.memberList());
    expect(listed.every((m) => !m.isLearner)).toBe(true);
    // 5 voters: with two of the original members down, the promoted one makes the quorum of 3.
    for (const i of [1, 2]) await cluster.kill(i);
    await eventually("a write with two voters down", () =>
      withMember(learner.endpoint, (c) => c.put("quorum", "with the promoted learner")),
    );
    // Back on their data dirs.
    await Promise.all([1, 2].map((i) => cluster.restart(i)));
    await sameHashEverywhere(cluster);
    // A joined member restarts from its own WAL (its flags still say "existing").
    await cluster.kill(3);
    // m4 may have led: the write waits for the next leader.
    await eventually("a write while m4 is down", () =>
      withMember(cluster.members[0]!.endpoint, (c) => c.put("while m4 is down", "x")),
    );
    await cluster.restart(3);
    await sameHashEverywhere(cluster);
  });

  it("a follower and then the leader are removed under write load; the cluster continues", async () => {
    const leaderId = await leaderOf(cluster.members[0]!.endpoint);
    const leader = await memberById(cluster, leaderId);
    const follower = cluster.members.find((m) => m.process !== undefined && m !== leader) as ClusterMember;
    // The load goes through the members that stay (a removed member's writes cannot commit).
    const staying = cluster.members.filter((m) => m.process !== undefined && m !== leader && m !== follower);
    const writer = startWriter(staying.map((m) => m.endpoint));
    await sleep(500);
    await removeMember(cluster, follower);
    await removeMember(cluster, leader);
    await sleep(1_000);
    const acked = await writer.stop();
    const remaining = cluster.members.filter((m) => m.process !== undefined).map((m) => m.name);
    expect(remaining).toHaveLength(3);
    await everyMemberLists(cluster, remaining);
    await sameHashEverywhere(cluster);
    await noAckedWriteLost(cluster.live()[0]!, acked);
  });
});
