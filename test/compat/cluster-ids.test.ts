import { computeClusterId, computeMemberId } from "@keyway/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EtcdCluster, requireEtcd, startEtcdCluster } from "../support/etcd-process.js";
import { etcdctl } from "../support/etcdctl.js";
import { type KeywayProcess, startKeywayProcess } from "../support/keyway-process.js";
import { freePort } from "../support/ports.js";

/** The token startEtcdCluster gives its members (test/support/etcd-process.ts). */
const TOKEN = "keyway-test";

interface ListedMember {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

/**
 * `etcdctl member list -w json`, with ids read from the text: they are uint64 and JSON.parse
 * would round them to doubles.
 */
function memberList(endpoint: string): { clusterId: bigint; memberId: bigint; members: ListedMember[] } {
  const result = etcdctl(endpoint, ["member", "list", "-w", "json"]);
  expect(result.status, result.stderr).toBe(0);
  const text = result.stdout.replace(/"(ID|cluster_id|member_id)":(\d+)/g, '"$1":"$2"');
  const parsed = JSON.parse(text) as {
    header: { cluster_id: string; member_id: string };
    members: { ID: string; name: string; peerURLs: string[]; clientURLs?: string[] }[];
  };
  return {
    clusterId: BigInt(parsed.header.cluster_id),
    memberId: BigInt(parsed.header.member_id),
    members: parsed.members.map((m) => ({
      id: BigInt(m.ID),
      name: m.name,
      peerUrls: m.peerURLs,
      clientUrls: m.clientURLs ?? [],
    })),
  };
}

const byId = (a: ListedMember, b: ListedMember) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe("member and cluster ids: ours equal a real 3-member etcd 3.4's", () => {
  let etcd: EtcdCluster;
  let keyway: KeywayProcess;
  beforeAll(async () => {
    if (!requireEtcd()) throw new Error("etcd 3.4 is required: run scripts/install-etcd.sh");
    etcd = await startEtcdCluster({ size: 3 });
    const self = etcd.members[1];
    if (self === undefined) throw new Error("no member 1");
    // A Keyway member started with member m1's flags: same names, peer URLs and token. It
    // listens for peers elsewhere, beside the etcd cluster that holds those URLs; its peers do not
    // speak Keyway's protocol, so it never has a leader, but it answers MemberList.
    keyway = await startKeywayProcess({
      answeringOnly: true,
      extraArgs: [
        `--name=${self.name}`,
        `--listen-peer-urls=http://127.0.0.1:${await freePort()}`,
        `--initial-advertise-peer-urls=${self.peerUrl}`,
        `--initial-cluster=${etcd.members.map((m) => `${m.name}=${m.peerUrl}`).join(",")}`,
        "--initial-cluster-state=new",
        `--initial-cluster-token=${TOKEN}`,
      ],
    });
  });
  afterAll(async () => {
    await Promise.all([etcd?.close(), keyway?.close()]);
  });

  it("derives etcd's member ids from the peer URLs and token, and its cluster id from the member ids", () => {
    const listed = memberList(etcd.endpoints[0] as string);
    expect(listed.members).toHaveLength(3);
    for (const member of etcd.members) {
      const found = listed.members.find((m) => m.name === member.name);
      expect(found?.id).toBe(computeMemberId([member.peerUrl], TOKEN));
    }
    expect(computeClusterId(listed.members.map((m) => m.id))).toBe(listed.clusterId);
    // A different token gives different ids: the token is part of the hash.
    expect(computeMemberId([etcd.members[0]?.peerUrl as string], `${TOKEN}-other`)).not.toBe(
      listed.members.find((m) => m.name === "m0")?.id,
    );
  });

  it("a Keyway member started with the same flags has etcd's ids and lists etcd's members", () => {
    const fromEtcd = memberList(etcd.endpoints[1] as string);
    const fromKeyway = memberList(keyway.endpoint);
    expect(fromKeyway.clusterId).toBe(fromEtcd.clusterId);
    expect(fromKeyway.memberId).toBe(fromEtcd.memberId);
    const shape = (members: ListedMember[]) =>
      [...members].sort(byId).map((m) => ({ id: m.id, name: m.name, peerUrls: m.peerUrls }));
    expect(shape(fromKeyway.members)).toEqual(shape(fromEtcd.members));
    // Publishing client URLs goes through the log, which needs a leader: none are listed yet.
    expect(fromKeyway.members.every((m) => m.clientUrls.length === 0)).toBe(true);
  });
});
