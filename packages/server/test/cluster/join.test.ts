import { describe, expect, it } from "vitest";
import { initialMembers } from "../../src/cluster/bootstrap.js";
import { parseInitialCluster } from "../../src/cluster/initial-cluster.js";
import { joinExistingCluster } from "../../src/cluster/join.js";
import type { Member } from "../../src/cluster/membership.js";
import type { MembersAnswer } from "../../src/peer/members-query.js";

const TOKEN = "t";
const local = initialMembers(parseInitialCluster("a=http://h:1,b=http://h:2,d=http://h:4"), TOKEN);
/** The running cluster: a and b started; d added by MemberAdd (its own id), not started. */
const running: Member[] = [
  { id: 0xan, name: "a", peerUrls: ["http://h:1"], clientUrls: ["http://h:11"], isLearner: false },
  { id: 0xbn, name: "b", peerUrls: ["http://h:2"], clientUrls: ["http://h:12"], isLearner: false },
  { id: 0xdn, name: "", peerUrls: ["http://h:4"], clientUrls: [], isLearner: false },
];
const answering = (members: readonly Member[]) => {
  const asked: (readonly string[])[] = [];
  const query = async (urls: readonly string[]): Promise<MembersAnswer> => {
    asked.push(urls);
    return { clusterId: 0xc1n, members };
  };
  return { asked, query };
};

describe("joining an existing cluster (etcd's ValidateClusterAndAssignIDs)", () => {
  it("asks the other members and takes the MemberAdd id and the cluster id", async () => {
    const { asked, query } = answering(running);
    const joined = await joinExistingCluster(local, "d", query);
    expect(joined.identity).toEqual({ memberId: 0xdn, clusterId: 0xc1n });
    expect(joined.members).toEqual(running);
    expect(asked).toEqual([["http://h:1", "http://h:2"]]);
  });

  it("refuses an --initial-cluster that does not name exactly the existing members, with etcd's text", async () => {
    const fewer = initialMembers(parseInitialCluster("a=http://h:1,d=http://h:4"), TOKEN);
    await expect(joinExistingCluster(fewer, "d", answering(running).query)).rejects.toThrow(
      "error validating peerURLs {ClusterID:c1 Members:[&{ID:a RaftAttributes:{PeerURLs:[http://h:1] IsLearner:false} Attributes:{Name:a ClientURLs:[http://h:11]}} &{ID:b",
    );
    await expect(joinExistingCluster(fewer, "d", answering(running).query)).rejects.toThrow(
      /RemovedMemberIDs:\[\]\}: member count is unequal$/,
    );
    const moved = initialMembers(parseInitialCluster("a=http://h:1,b=http://h:3,d=http://h:4"), TOKEN);
    await expect(joinExistingCluster(moved, "d", answering(running).query)).rejects.toThrow(
      '}: PeerURLs: no match found for existing member (b, [http://h:2]), last resolver error (resolved urls: "http://h:2" != "http://h:4")',
    );
  });

  it("refuses a member that already started, and says so when no member answers", async () => {
    const started = running.map((m) => (m.id === 0xdn ? { ...m, name: "d" } : m));
    await expect(joinExistingCluster(local, "d", answering(started).query)).rejects.toThrow(
      "member d has already been bootstrapped",
    );
    await expect(
      joinExistingCluster(local, "d", () => Promise.reject(new Error("connection refused"))),
    ).rejects.toThrow(
      "cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs",
    );
  });
});
