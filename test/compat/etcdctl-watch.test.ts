import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, etcdctlWatch, normalise, type WatchRunOptions } from "../support/etcdctl.js";
import { type ServerPair, startPair } from "../support/pair.js";

/**
 * Differential suite for `etcdctl watch`: the same writes on real etcd 3.4 and on Keyway, then
 * the same watch commands against both; outputs (ids and timings blanked) must be identical.
 * etcdctl watch runs until killed, so each run collects output until the expected events are
 * in, then stops the process (see etcdctlWatch).
 */
const lines = (count: number) => (stdout: string) => stdout.split("\n").length > count;
const contains = (text: string) => (stdout: string) => stdout.includes(text);

describe("etcdctl 3.4 watch against etcd 3.4 and Keyway", () => {
  let pair: ServerPair;
  const both = (args: string[]) => {
    const e = normalise(etcdctl(pair.etcd.endpoints[0] as string, args));
    const k = normalise(etcdctl(pair.keyway.endpoint, args));
    expect(k).toEqual(e);
  };
  const watchBoth = async (args: string[], options: WatchRunOptions) => {
    const [e, k] = await Promise.all([
      etcdctlWatch(pair.etcd.endpoints[0] as string, args, options),
      etcdctlWatch(pair.keyway.endpoint, args, options),
    ]);
    expect(options.until(e.stdout) || e.status !== null).toBe(true);
    expect(normalise(k)).toEqual(normalise(e));
    return normalise(k);
  };

  beforeAll(async () => {
    pair = await startPair();
    // Revisions 2..9 on both servers.
    for (const args of [
      ["put", "w/a", "1"],
      ["put", "w/b", "2"],
      ["put", "w/a", "3"],
      ["del", "w/a"],
      ["put", "x", "9"],
      ["put", "w/c", "4"],
      ["del", "w/", "--prefix"],
      ["put", "w/d", "5"],
    ])
      both(args);
  });
  afterAll(async () => {
    await pair?.close();
  });

  it("replays one key's history with --rev", async () => {
    const out = await watchBoth(["watch", "--rev=1", "w/a"], { until: lines(9) });
    expect(out.stdout).toContain("DELETE\nw/a\n");
  });

  it("replays a prefix with --prefix", async () => {
    await watchBoth(["watch", "--rev=1", "--prefix", "w/"], { until: contains("w/d\n5\n") });
  });

  it("replays a range [key, range_end)", async () => {
    await watchBoth(["watch", "--rev=3", "w/b", "w/d"], { until: contains("DELETE\nw/c\n") });
  });

  it("adds prev_kv with --prev-kv", async () => {
    await watchBoth(["watch", "--rev=2", "--prev-kv", "w/a"], { until: lines(13) });
  });

  it("prints whole responses with -w json", async () => {
    const out = await watchBoth(["watch", "--rev=2", "--prefix", "w/", "-w", "json", "--prev-kv"], {
      until: contains('"mod_revision":9'),
    });
    expect(out.stdout).toContain('"Events":[');
  });

  it("delivers live events to a watch started before the writes", async () => {
    const options: WatchRunOptions = { until: contains("live\n3\n") };
    const watching = Promise.all([
      etcdctlWatch(pair.etcd.endpoints[0] as string, ["watch", "--rev=10", "live"], options),
      etcdctlWatch(pair.keyway.endpoint, ["watch", "--rev=10", "live"], options),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const value of ["1", "2", "3"]) both(["put", "live", value]);
    const [e, k] = await watching;
    expect(e.stdout).toBe("PUT\nlive\n1\nPUT\nlive\n2\nPUT\nlive\n3\n");
    expect(normalise(k)).toEqual(normalise(e));
  });

  // etcd replays the history of several new watchers in map order, and etcdctl prints the two
  // watchers' events from separate goroutines, so their lines can interleave: the output is
  // compared as a multiset of lines.
  it("runs interactive watch -i commands from stdin", async () => {
    const options: WatchRunOptions = {
      stdin: "watch --rev=1 x\nwatch --rev=8 w/ --prefix\n",
      until: (stdout) => stdout.includes("x\n9\n") && stdout.includes("w/d\n5\n"),
    };
    const [e, k] = await Promise.all([
      etcdctlWatch(pair.etcd.endpoints[0] as string, ["watch", "-i"], options),
      etcdctlWatch(pair.keyway.endpoint, ["watch", "-i"], options),
    ]);
    const lines = (stdout: string) => stdout.split("\n").sort();
    expect(lines(e.stdout)).toEqual(lines("DELETE\nw/b\n\nDELETE\nw/c\n\nPUT\nw/d\n5\nPUT\nx\n9\n"));
    expect(lines(k.stdout)).toEqual(lines(e.stdout));
    expect(k.stderr).toBe(e.stderr);
  });

  // etcd 3.4 answers a progress request at once, even before a watcher's history is replayed
  // (etcd bug #15220); Keyway waits until the stream is caught up, as etcd 3.5+ does. On a
  // stream whose watchers are all current, both answer at once.
  it("answers progress in watch -i", async () => {
    await watchBoth(["watch", "-i"], {
      stdin: "watch quiet\nwatch other --prefix\nprogress\n",
      until: (stdout) => stdout.split("progress notify").length === 3,
    });
  });

  it("ends a watch from a compacted revision with the compaction error", async () => {
    both(["compaction", "6"]);
    const out = await watchBoth(["watch", "--rev=2", "w/a"], { until: () => false, timeoutMs: 5_000 });
    expect(out.stderr).toContain("required revision has been compacted");
    await watchBoth(["watch", "--rev=6", "--prefix", "w/"], { until: contains("w/d\n5\n") });
  });
});
