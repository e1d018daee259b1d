import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ETCD_BIN, requireEtcd } from "../support/etcd-process.js";
import { etcdctl } from "../support/etcdctl.js";
import { KEYWAY_BIN, startKeywayProcess } from "../support/keyway-process.js";
import { freePort } from "../support/ports.js";

interface Run {
  status: number | null;
  stderr: string;
}

/**
 * The cluster flags' errors, checked against real etcd 3.4 run with the same bad flags: the
 * same reason text and the same exit status (1 for a bad configuration, 2 for a flag value the
 * parser refuses). etcd prints `etcdmain: <reason>` or `invalid value "<v>" for flag -<f>:
 * <reason>`; Keyway prints `keyway: <reason>` or commander's `error: option ... is invalid. <reason>`.
 */
describe("keyway serve: cluster flag errors as etcd 3.4 reports them", () => {
  let root: string;
  let peer: string;
  let other: string;
  let clientUrl: string;
  let listenPeer: string;
  beforeAll(async () => {
    if (!requireEtcd()) throw new Error("etcd 3.4 is required: run scripts/install-etcd.sh");
    root = mkdtempSync(join(tmpdir(), "keyway-flags-"));
    const [p1, p2, c, lp] = [await freePort(), await freePort(), await freePort(), await freePort()];
    peer = `http://127.0.0.1:${p1}`;
    other = `http://127.0.0.1:${p2}`;
    clientUrl = `http://127.0.0.1:${c}`;
    listenPeer = `http://127.0.0.1:${lp}`;
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  let runs = 0;
  /** Runs a program that must exit by itself (a bad flag); a hang past 20 s fails the test. */
  const run = (argv: string[]): Run => {
    const dataDir = join(root, `d${runs++}`);
    const [bin, ...args] = argv;
    const common = [
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${listenPeer}`,
    ];
    const r = spawnSync(bin as string, [...args, ...common], { encoding: "utf8", timeout: 20_000 });
    return { status: r.status, stderr: r.stderr };
  };
  const etcd = (flags: string[]) => run([ETCD_BIN, ...flags]);
  const keyway = (flags: string[]) => run([process.execPath, KEYWAY_BIN, "serve", ...flags]);

  /** The reason in etcd's output: its fatal `etcdmain:` line, or its flag parser's line. */
  const etcdReason = (r: Run): string => {
    const fatal = / C \| etcdmain: (.*)$/m.exec(r.stderr)?.[1];
    const flag = /^invalid value "[^"]*" for flag -[\w-]+: (.*)$/m.exec(r.stderr)?.[1];
    const reason = fatal ?? flag;
    if (reason === undefined) throw new Error(`no error line in etcd's output:\n${r.stderr}`);
    return reason;
  };
  const keywayReason = (r: Run): string => {
    const fatal = /^keyway: (.*)$/m.exec(r.stderr)?.[1];
    const flag = /^error: option '[^']*' argument '[^']*' is invalid\. (.*)$/m.exec(r.stderr)?.[1];
    const reason = fatal ?? flag;
    if (reason === undefined) throw new Error(`no error line in keyway's output:\n${r.stderr}`);
    return reason;
  };

  const cases: [string, () => string[]][] = [
    [
      "this member's name is not in --initial-cluster",
      () => ["--name=a", `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=b=${peer}`],
    ],
    [
      "--initial-cluster gives this member other peer URLs",
      () => ["--name=a", `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=a=${other}`],
    ],
    [
      "an advertised peer URL is missing from --initial-cluster",
      () => ["--name=a", `--initial-advertise-peer-urls=${peer},${other}`, `--initial-cluster=a=${peer}`],
    ],
    [
      "a peer URL is listed twice",
      () => ["--name=a", `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=a=${peer},b=${peer}`],
    ],
    [
      "a bad URL in --initial-cluster",
      () => ["--name=a", `--initial-advertise-peer-urls=${peer}`, "--initial-cluster=a=foo"],
    ],
    ["a bad --listen-peer-urls (flag parser)", () => ["--listen-peer-urls=foo"]],
    ["a peer URL with a path (flag parser)", () => [`--initial-advertise-peer-urls=${peer}/x`]],
    ["a peer URL without a port (flag parser)", () => ["--initial-advertise-peer-urls=http://127.0.0.1"]],
    ["an unknown --initial-cluster-state (flag parser)", () => ["--initial-cluster-state=bogus"]],
  ];

  it.each(cases)("%s", (_name, flags) => {
    // Flags parsed later win in both programs; the common ones go last, so the case's
    // --listen-peer-urls is put after them.
    const args = flags();
    const fromEtcd = etcd(args);
    const fromKeyway = keyway(args);
    expect(fromEtcd.status).not.toBe(0);
    expect(keywayReason(fromKeyway)).toBe(etcdReason(fromEtcd));
    expect(fromKeyway.status).toBe(fromEtcd.status);
  });

  it("a restart ignores the cluster flags, keeps the member table, and publishes new client URLs", async () => {
    const dataDir = join(root, "restart");
    const list = (endpoint: string) => {
      const r = etcdctl(endpoint, ["member", "list"]);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const first = await startKeywayProcess({
      dataDir,
      extraArgs: ["--name=a", `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=a=${peer}`],
    });
    const before = list(first.endpoint);
    expect(before.split("\n").filter((line) => line !== "")).toHaveLength(1);
    await first.stop();
    // Flags that would be refused on a first start: the data dir already knows its member.
    const again = await startKeywayProcess({
      dataDir,
      extraArgs: ["--name=a", "--initial-cluster=zzz=http://127.0.0.1:1"],
    });
    try {
      expect(list(again.endpoint)).toBe(before.replaceAll(first.endpoint, again.endpoint));
    } finally {
      await again.stop();
    }
  });
});
