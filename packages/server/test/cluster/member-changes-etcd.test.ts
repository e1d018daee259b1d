import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Server, ServerCredentials, type ServiceError } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EtcdCluster, requireEtcd, startEtcdCluster } from "../../../../test/support/etcd-process.js";
import { type CallOutcome, call } from "../../../../test/support/raw-grpc.js";
import { StateMachine } from "../../src/apply/index.js";
import { initialMembers } from "../../src/cluster/bootstrap.js";
import { clusterService } from "../../src/rpc/cluster.js";
import { type ClusterControl, memberChangeService } from "../../src/rpc/member-changes.js";
import { strictDecoding } from "../../src/rpc/strict-decoding.js";

/**
 * The Cluster service's membership changes against a real one-member etcd 3.4: the same calls,
 * the same codes and messages, responses compared by shape. Keyway's side runs the handlers over
 * a real StateMachine whose conf changes commit at the next log index: the stand-in for the Raft
 * wiring's ClusterControl in a one-member cluster (it has none of Raft's readiness checks, so
 * the calls here avoid them).
 */
describe("Cluster.MemberAdd/Remove/Update/Promote against etcd 3.4", () => {
  let etcd: EtcdCluster;
  let dir: string;
  let stateMachine: StateMachine;
  let server: Server;
  let clients: { etcd: etcdserverpb.ClusterClient; keyway: etcdserverpb.ClusterClient };
  const selfUrl = { etcd: "", keyway: "http://127.0.0.1:2380" };
  const selfId = { etcd: 0n, keyway: 0n };

  beforeAll(async () => {
    if (!requireEtcd()) throw new Error("etcd 3.4 is required: run scripts/install-etcd.sh");
    etcd = await startEtcdCluster();
    selfUrl.etcd = etcd.members[0]?.peerUrl as string;
    dir = mkdtempSync(join(tmpdir(), "keyway-member-changes-"));
    stateMachine = StateMachine.open({ dir, minLeaseTtlSeconds: 2 });
    const members = initialMembers([{ name: "m0", peerUrls: [selfUrl.keyway] }], "t");
    stateMachine.bootstrapMembers(members);
    selfId.keyway = members[0]?.id as bigint;
    // The member publishes its name and client URLs through the log, as KeywayServer does on start.
    stateMachine.applyBatch([
      {
        index: 1,
        term: 1,
        request: {
          id: 1n,
          request: {
            $case: "memberAttrSet",
            memberAttrSet: { memberId: selfId.keyway, name: "m0", clientUrls: ["http://127.0.0.1:2379"] },
          },
        },
      },
    ]);
    const control: ClusterControl = {
      async proposeConfChange(change) {
        const outcome = stateMachine.applyMemberChange(
          { index: stateMachine.appliedIndex + 1, term: 1 },
          change,
        );
        if (!outcome.ok) throw outcome.error;
        return outcome.members;
      },
    };
    const header = { clusterId: 1n, memberId: selfId.keyway, raftTerm: () => 1n, currentRevision: () => 1 };
    server = new Server();
    server.addService(strictDecoding(etcdserverpb.ClusterService), {
      ...clusterService(header, () => stateMachine.members()),
      ...memberChangeService({ header, control, nowMs: Date.now }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const client = (endpoint: string) =>
      new etcdserverpb.ClusterClient(endpoint.replace(/^http:\/\//, ""), credentials.createInsecure());
    clients = { etcd: client(etcd.endpoints[0] as string), keyway: client(`127.0.0.1:${port}`) };
    const listed = await call<etcdserverpb.MemberListResponse>((cb) =>
      clients.etcd.memberList({ linearizable: false }, cb),
    );
    selfId.etcd = listed.ok ? (listed.value.members[0]?.ID as bigint) : 0n;
  });
  afterAll(async () => {
    clients?.etcd.close();
    clients?.keyway.close();
    server?.forceShutdown();
    await stateMachine?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    await etcd?.close();
  });

  type Target = "etcd" | "keyway";
  const both = async <T>(
    invoke: (
      client: etcdserverpb.ClusterClient,
      target: Target,
    ) => (cb: (e: ServiceError | null, v: T) => void) => unknown,
  ): Promise<Record<Target, CallOutcome<T>>> => ({
    etcd: await call<T>(invoke(clients.etcd, "etcd")),
    keyway: await call<T>(invoke(clients.keyway, "keyway")),
  });
  const add = (peerURLs: (t: Target) => string[], isLearner: boolean) =>
    both<etcdserverpb.MemberAddResponse>(
      (c, t) => (cb) => c.memberAdd({ peerURLs: peerURLs(t), isLearner }, cb),
    );
  const failure = (outcome: CallOutcome<unknown>) =>
    outcome.ok ? "ok" : `${outcome.code} ${outcome.message}`;
  const expectSameFailure = (outcomes: Record<Target, CallOutcome<unknown>>, message: string) => {
    expect(failure(outcomes.etcd)).toContain(message);
    expect(failure(outcomes.keyway)).toBe(failure(outcomes.etcd));
  };
  /** A member list by shape: per member, which fields are set, and the learner flag. */
  const shape = (members: etcdserverpb.Member[]) =>
    members
      .map((m) => ({
        learner: m.isLearner,
        urls: m.peerURLs.length,
        named: m.name !== "",
        started: m.clientURLs.length > 0,
      }))
      .sort((a, b) => Number(a.learner) - Number(b.learner));

  it("refuses bad peer URLs, a taken peer URL, and unknown ids, as etcd does", async () => {
    expectSameFailure(await add(() => ["foo"], true), "etcdserver: given member URLs are invalid");
    expectSameFailure(await add(() => [], true), "etcdserver: given member URLs are invalid");
    expectSameFailure(await add((t) => [selfUrl[t]], true), "etcdserver: Peer URLs already exists");
    const unknown = 0x1234n;
    expectSameFailure(
      await both((c) => (cb) => c.memberRemove({ ID: unknown }, cb)),
      "etcdserver: member not found",
    );
    expectSameFailure(
      await both((c) => (cb) => c.memberUpdate({ ID: unknown, peerURLs: ["http://127.0.0.1:1"] }, cb)),
      "etcdserver: member not found",
    );
    expectSameFailure(
      await both((c) => (cb) => c.memberPromote({ ID: unknown }, cb)),
      "etcdserver: member not found",
    );
    expectSameFailure(
      await both((c, t) => (cb) => c.memberPromote({ ID: selfId[t] }, cb)),
      "etcdserver: can only promote a learner member",
    );
  });

  it("adds a learner (one at most), then removes it for good", async () => {
    const added = await add((t) => [t === "etcd" ? "http://127.0.0.1:3" : "http://127.0.0.1:4"], true);
    if (!added.etcd.ok || !added.keyway.ok)
      throw new Error(`add failed: ${failure(added.etcd)} / ${failure(added.keyway)}`);
    const [fromEtcd, fromKeyway] = [added.etcd.value, added.keyway.value];
    for (const outcome of [fromEtcd, fromKeyway]) {
      expect(outcome.member?.isLearner).toBe(true);
      expect(outcome.member?.name).toBe("");
      expect(outcome.header?.revision).toBe(0n);
    }
    expect(shape(fromKeyway.members)).toEqual(shape(fromEtcd.members));
    expect(fromKeyway.members.find((m) => m.ID === fromKeyway.member?.ID)?.isLearner).toBe(true);

    expectSameFailure(
      await add(() => ["http://127.0.0.1:5"], true),
      "etcdserver: too many learner members in cluster",
    );

    const learner = {
      etcd: added.etcd.value.member?.ID as bigint,
      keyway: added.keyway.value.member?.ID as bigint,
    };
    const removed = await both<etcdserverpb.MemberRemoveResponse>(
      (c, t) => (cb) => c.memberRemove({ ID: learner[t] }, cb),
    );
    if (!removed.etcd.ok || !removed.keyway.ok) throw new Error("remove failed");
    expect(shape(removed.keyway.value.members)).toEqual(shape(removed.etcd.value.members));
    expectSameFailure(
      await both((c, t) => (cb) => c.memberRemove({ ID: learner[t] }, cb)),
      "etcdserver: member not found",
    );
    expect(stateMachine.isRemoved(learner.keyway)).toBe(true);
  });
});
