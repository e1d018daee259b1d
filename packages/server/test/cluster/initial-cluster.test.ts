import { describe, expect, it } from "vitest";
import { initialIdentity } from "../../src/cluster/bootstrap.js";
import {
  formatInitialCluster,
  initialClusterFromName,
  parseInitialCluster,
  parseUrls,
  verifyInitialCluster,
} from "../../src/cluster/initial-cluster.js";
import { computeClusterId, computeMemberId } from "../../src/cluster/member-id.js";

describe("--initial-cluster and the peer URL flags", () => {
  it("parses name=url pairs, gathering a name's URLs (sorted) and skipping empty pairs", () => {
    expect(parseInitialCluster("a=http://h:2,b=http://h:3,,a=http://h:1")).toEqual([
      { name: "a", peerUrls: ["http://h:1", "http://h:2"] },
      { name: "b", peerUrls: ["http://h:3"] },
    ]);
    expect(() => parseInitialCluster("a")).toThrow(
      "error setting up initial cluster: URL scheme must be http, https, unix, or unixs: ",
    );
  });

  it("checks URLs as etcd's types.NewURLs does", () => {
    expect(parseUrls([" https://[::1]:2380", "http://b:1"])).toEqual(["http://b:1", "https://[::1]:2380"]);
    expect(() => parseUrls(["ftp://h:1"])).toThrow(
      "URL scheme must be http, https, unix, or unixs: ftp://h:1",
    );
    expect(() => parseUrls(["http://h"])).toThrow('URL address does not have the form "host:port": http://h');
    expect(() => parseUrls(["http://h:1/"])).toThrow("URL must not contain a path: http://h:1/");
    expect(() => parseUrls([])).toThrow("no valid URLs given");
  });

  it("derives etcd's default from the name, and prints a cluster as etcd's URLsMap does", () => {
    expect(initialClusterFromName("x", ["http://h:1", "http://h:2"])).toBe("x=http://h:1,x=http://h:2");
    expect(initialClusterFromName("", ["http://h:1"])).toBe("default=http://h:1");
    expect(formatInitialCluster(parseInitialCluster("b=http://h:1,a=http://h:2"))).toBe(
      "a=http://h:2,b=http://h:1",
    );
  });

  it("verifies a joining member's name and duplicate URLs but not its advertised URLs", () => {
    const base = { name: "a", advertisePeerUrls: ["http://h:9"], initialClusterState: "existing" as const };
    expect(() =>
      verifyInitialCluster({ ...base, initialCluster: parseInitialCluster("a=http://h:1") }),
    ).not.toThrow();
    expect(() =>
      verifyInitialCluster({ ...base, initialCluster: parseInitialCluster("b=http://h:1") }),
    ).toThrow(`couldn't find local name "a" in the initial cluster configuration`);
    expect(() =>
      verifyInitialCluster({ ...base, initialCluster: parseInitialCluster("a=http://h:1,b=http://h:1") }),
    ).toThrow("initial cluster a=http://h:1,b=http://h:1 has duplicate url");
  });

  it("gives a new cluster's member its own id and the cluster id of all; a joiner asks the others", async () => {
    const settings = {
      name: "b",
      advertisePeerUrls: ["http://h:2"],
      initialCluster: parseInitialCluster("a=http://h:1,b=http://h:2"),
      initialClusterState: "new" as const,
      initialClusterToken: "t",
      advertiseClientUrls: [],
    };
    const ids = [computeMemberId(["http://h:1"], "t"), computeMemberId(["http://h:2"], "t")];
    expect(await initialIdentity(settings)).toEqual({ memberId: ids[1], clusterId: computeClusterId(ids) });
    // Nothing listens on the other member's peer URL: etcd's error.
    await expect(
      initialIdentity({
        ...settings,
        initialCluster: parseInitialCluster("a=http://127.0.0.1:1,b=http://h:2"),
        initialClusterState: "existing",
      }),
    ).rejects.toThrow(
      "cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs",
    );
  });

  it("member ids ignore URL order, and a runtime add's time changes them", () => {
    const id = computeMemberId(["http://h:2", "http://h:1"], "t");
    expect(computeMemberId(["http://h:1", "http://h:2"], "t")).toBe(id);
    expect(computeMemberId(["http://h:1", "http://h:2"], "t", 1_700_000_000)).not.toBe(id);
    expect(computeClusterId([3n, 1n, 2n])).toBe(computeClusterId([1n, 2n, 3n]));
  });
});
