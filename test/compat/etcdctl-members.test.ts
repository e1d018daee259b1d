import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EtcdCluster, requireEtcd, startEtcdCluster } from "../support/etcd-process.js";
import { type CtlResult, etcdctl, normalise } from "../support/etcdctl.js";
import { type KeywayCluster, startKeywayCluster } from "../support/keyway-cluster.js";
import { freePort } from "../support/ports.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One side of the differential: a 3-member cluster, its members by name, what was added to it. */
interface Side {
  readonly endpoint: string;
  /** Text to replace by a name: member ids (hex), URLs, the cluster id. */
  readonly names: Map<string, string>;
  run(args: string[]): CtlResult;
}

/**
 * etcdctl's membership commands against a 3-member etcd 3.4 and a 3-member Keyway: the same
 * commands give the same outputs once what differs by nature is named (ids, URLs, ports), and
 * the numbers that differ (raft term and index, db size, version) are blanked.
 */
describe("etcdctl 3.4 member add/list/promote/remove and endpoint status --cluster, etcd vs Keyway", () => {
  let etcd: EtcdCluster;
  let keyway: KeywayCluster;
  let sides: [Side, Side];
  let startedAt = 0;
  beforeAll(async () => {
    if (!requireEtcd()) throw new Error("etcd 3.4 is required: run scripts/install-etcd.sh");
    // One after the other: ports are picked free, and two starts at once could pick the same.
    etcd = await startEtcdCluster({ size: 3 });
    keyway = await startKeywayCluster(3, [], { names: ["m0", "m1", "m2"] });
    startedAt = Date.now();
    const side = (
      endpoint: string,
      members: readonly { name: string; endpoint: string; peerUrl: string }[],
    ): Side => {
      const names = new Map<string, string>();
      for (const m of members) {
        names.set(m.endpoint, `<${m.name}-client>`);
        names.set(m.peerUrl, `<${m.name}-peer>`);
      }
      return { endpoint, names, run: (args) => etcdctl(endpoint, args) };
    };
    const etcdMembers = etcd.members.map((m) => ({ ...m, endpoint: m.clientUrl }));
    sides = [side(etcd.endpoints[0]!, etcdMembers), side(keyway.endpoints[0]!, keyway.members)];
    for (const s of sides) {
      // Ids are named from `member list -w json` (decimal there, hex in the text outputs).
      const listed = JSON.parse(
        s.run(["member", "list", "-w", "json"]).stdout.replace(/"(ID|cluster_id)":(\d+)/g, '"$1":"$2"'),
      ) as { header: { cluster_id: string }; members: { ID: string; name: string }[] };
      s.names.set(BigInt(listed.header.cluster_id).toString(16), "<cluster>");
      for (const m of listed.members) s.names.set(BigInt(m.ID).toString(16), `<${m.name}-id>`);
    }
  });
  afterAll(async () => {
    await Promise.all([etcd?.close(), keyway?.close()]);
  });

  /** Output with the side's ids and URLs named; lines sorted when `sortLines` (server order is by id). */
  const named = (s: Side, r: CtlResult, sortLines = false): string => {
    const clean = normalise(r);
    let text = `${clean.status}\n${clean.stdout}${clean.stderr}`;
    // Longest first: a URL must not be cut by a shorter one that is its prefix.
    for (const [raw, name] of [...s.names].sort((a, b) => b[0].length - a[0].length))
      text = text.replaceAll(raw, name);
    text = text.replace(/ETCD_INITIAL_CLUSTER="([^"]*)"/, (_, list: string) => {
      return `ETCD_INITIAL_CLUSTER="${list.split(",").sort().join(",")}"`;
    });
    // etcdctl pads ids to 16 hex digits with spaces: the padding differs with the id.
    text = text.replace(/(Member|cluster) +</g, "$1 <");
    // Table columns are as wide as their longest cell: the ids and URLs set the widths.
    text = text.replace(/ *\| */g, "|").replace(/-+/g, "-");
    return sortLines ? text.split("\n").sort().join("\n") : text;
  };

  /** Runs the same command on both sides (`args` may depend on the side) and compares. */
  const same = (args: (s: Side) => string[], sortLines = false): [string, string] => {
    const [e, k] = sides.map((s) => named(s, s.run(args(s)), sortLines)) as [string, string];
    expect(k).toBe(e);
    return [e, k];
  };

  /** Adds a member on both sides; names its id from the output. */
  const add = async (name: string, learner: boolean): Promise<void> => {
    const ports = [await freePort(), await freePort()];
    const results = sides.map((s, i) => {
      const url = `http://127.0.0.1:${ports[i]}`;
      s.names.set(url, `<${name}-peer>`);
      const r = s.run(["member", "add", name, `--peer-urls=${url}`, ...(learner ? ["--learner"] : [])]);
      const id = /Member +([0-9a-f]+) added/.exec(r.stdout)?.[1];
      if (id === undefined) throw new Error(`member add on side ${i}: ${r.stdout}${r.stderr}`);
      s.names.set(id as string, `<${name}-id>`);
      return named(s, r);
    });
    expect(results[1]).toBe(results[0]);
    expect(results[0]).toContain(`ETCD_NAME="${name}"`);
  };

  const urlOf = (s: Side, named: string) => [...s.names].find(([, n]) => n === named)?.[0] as string;
  const idOf = (s: Side, name: string) => urlOf(s, `<${name}-id>`);

  it("member list", () => {
    same(() => ["member", "list"], true);
    same(() => ["member", "list", "-w", "table"], true);
  });

  it("member add --learner, then the list shows it unstarted; a second learner is refused", async () => {
    // etcd (--strict-reconfig-check) adds only once every voter has been connected for 5 s.
    await sleep(Math.max(0, startedAt + 5_500 - Date.now()));
    await add("m4", true);
    const [list] = same(() => ["member", "list"], true);
    expect(list).toContain("<m4-id>, unstarted, , <m4-peer>, , true");
    same(() => ["member", "add", "l2", "--peer-urls=http://127.0.0.1:1", "--learner"]);
    same((s) => ["member", "add", "again", `--peer-urls=${urlOf(s, "<m4-peer>")}`]);
  });

  it("member promote: a learner that has not caught up, a voter and an unknown id are refused", () => {
    const [notReady] = same((s) => ["member", "promote", idOf(s, "m4")]);
    expect(notReady).toContain("can only promote a learner member which is in sync with leader");
    // Through every member: a follower asks the leader.
    for (const i of [1, 2]) {
      const [e, k] = [etcd.endpoints[i]!, keyway.endpoints[i]!].map((endpoint, side) =>
        named(sides[side]!, etcdctl(endpoint, ["member", "promote", idOf(sides[side]!, "m4")])),
      );
      expect(k).toBe(e);
    }
    same((s) => ["member", "promote", idOf(s, "m0")]);
    same(() => ["member", "promote", "1234"]);
  });

  it("member remove of the learner, add and remove of a voter; unknown ids are refused", async () => {
    same((s) => ["member", "remove", idOf(s, "m4")]);
    await add("m3", false);
    const [withM3] = same(() => ["member", "list"], true);
    expect(withM3).toContain("<m3-id>, unstarted, , <m3-peer>, , false");
    same((s) => ["member", "remove", idOf(s, "m3")]);
    same((s) => ["member", "remove", idOf(s, "m3")]);
    const [list] = same(() => ["member", "list"], true);
    expect(list).not.toContain("<m3");
    expect(list).not.toContain("<m4");
  });

  it("member remove of a started member: it stops as etcd's does, the others list it no more", async () => {
    const removed = [etcd.members[2]!.process!, keyway.members[2]!.process!.child];
    const exits = removed.map(
      (child) => new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code))),
    );
    same((s) => ["member", "remove", idOf(s, "m2")]);
    const [etcdCode, keywayCode] = await Promise.all(exits);
    expect(keywayCode).toBe(etcdCode);
    expect(keyway.members[2]!.process!.output()).toContain(
      "the member has been permanently removed from the cluster",
    );
    etcd.members[2]!.process = undefined;
    keyway.members[2]!.process = undefined;
    const [list] = same(() => ["member", "list"], true);
    expect(list).not.toContain("<m2");
  });

  it("endpoint status --cluster (raft term and index, db size and version blanked)", async () => {
    const blank = (text: string) =>
      text
        .replace(/, [0-9.]+ [kMG]?B, /g, ", <size>, ")
        .replace(/, \d+, \d+, \d+, /g, ", <term>, <index>, <applied>, ");
    const status = () =>
      sides.map((s) =>
        blank(named(s, s.run(["endpoint", "status", "--cluster"]), true)).replace(
          /, 3\.4\.\d+, /g,
          ", <version>, ",
        ),
      ) as [string, string];
    // The leader differs by nature: compare how many say true (after a removed leader, once the
    // others elected a new one).
    const leaders = (text: string) => text.split("\n").filter((line) => /<size>, true,/.test(line)).length;
    let [e, k] = status();
    for (let i = 0; i < 50 && (leaders(e) !== 1 || leaders(k) !== 1); i++) {
      await sleep(200);
      [e, k] = status();
    }
    expect(leaders(k)).toBe(1);
    expect(leaders(e)).toBe(1);
    const noLeader = (text: string) => text.replace(/<size>, (true|false),/g, "<size>, <leader>,");
    expect(noLeader(k)).toBe(noLeader(e));
  });
});
