import { KeywayClient } from "@keyway/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireEtcd } from "../../../test/support/etcd-process.js";
import { docker } from "../src/cluster/docker-cli.js";
import { ensureImage } from "../src/cluster/images.js";
import { memberStatus } from "../src/cluster/wait-serving.js";
import { findLeader } from "../src/faults/leader.js";
import {
  type Cluster,
  type ClusterMode,
  closeOpenClusters,
  requireDocker,
  startCluster,
} from "../src/index.js";

// The fault primitives must really act: a restarted member kept its data, a paused one is silent,
// an isolated leader loses leadership and cannot serve a linearizable read, and healing brings it
// back. The scenario suite only shows 0 anomalies; this shows the faults were not no-ops.

afterAll(closeOpenClusters, 60_000);

/** A client of one member only, failing fast (no retries). */
function clientOf(endpoint: string): KeywayClient {
  return new KeywayClient({ endpoints: [endpoint], retry: { retries: 0 }, defaultTimeoutMs: 2_000 });
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function faultPrimitives(mode: Exclude<ClusterMode, "auto">): void {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ target: "etcd", members: 3, seed: 77, mode });
  }, 60_000);
  afterAll(() => cluster?.close(), 60_000);
  const endpoint = (i: number) => cluster.endpoints[i] as string;

  it("kill -9 + restart: the member comes back with its data", async () => {
    await using client = clientOf(endpoint(1));
    await client.put("fault/kill", "kept");
    await cluster.kill(1);
    expect(await memberStatus(endpoint(1), 1_000)).toBeUndefined();
    await cluster.restart(1);
    expect((await client.get("fault/kill", { serializable: true }))?.text()).toBe("kept");
  });

  it("pause: the member is silent until resumed", async () => {
    await cluster.pause(2);
    expect(await memberStatus(endpoint(2), 1_000)).toBeUndefined();
    await cluster.resume(2);
    await waitFor(
      "the resumed member to answer",
      async () => (await memberStatus(endpoint(2), 1_000)) !== undefined,
    );
  });

  it("isolating the leader: the majority elects another, the old leader cannot serve, heal rejoins it", async () => {
    const leader = await findLeader(cluster);
    const peers = [0, 1, 2].filter((i) => i !== leader);
    await cluster.dropPeers(leader, peers, "in");
    await cluster.dropPeers(leader, peers, "out");
    await waitFor("a new leader among the majority", async () => {
      const status = await memberStatus(endpoint(peers[0] as number), 1_000);
      return status !== undefined && status.leader !== 0n && status.leader !== (await idOf(leader));
    });
    await using isolated = clientOf(endpoint(leader));
    await expect(isolated.get("fault/kill")).rejects.toThrow();
    await using majority = clientOf(endpoint(peers[0] as number));
    const written = await majority.put("fault/partition", "majority");
    await cluster.heal();
    await waitFor("the healed member to catch up", async () => {
      const kv = await isolated.get("fault/partition").catch(() => undefined);
      return kv?.modRevision === written.revision;
    });
  });

  let ids: bigint[] | undefined;
  async function idOf(index: number): Promise<bigint> {
    if (ids === undefined) {
      await using client = clientOf(endpoint(0));
      const members = await client.cluster.memberList();
      ids = cluster.members.map((m) => members.find((x) => x.name === m.name)?.id ?? 0n);
    }
    return ids[index] ?? 0n;
  }
}

const haveEtcd = requireEtcd();
const haveDocker = await requireDocker();

describe.runIf(haveEtcd && haveDocker)("fault primitives on a 3-member etcd in containers", () => {
  it("the etcd image is imported locally and runs the host's etcd 3.4", async () => {
    const tag = await ensureImage("etcd");
    expect(tag).toMatch(/^keyway-harness\/etcd:[0-9a-f]{16}$/);
    expect(await docker(["run", "--rm", "--network", "none", tag, "/usr/bin/etcd", "--version"])).toMatch(
      /etcd Version: 3\.4\./,
    );
  });
  faultPrimitives("container");
});

describe.runIf(haveEtcd)("fault primitives on a 3-member etcd as processes with peer proxies", () => {
  faultPrimitives("process");
});
