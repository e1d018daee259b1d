import { fileURLToPath } from "node:url";
import type { Target } from "./types.js";

/** Path of the etcd 3.4 binary (Debian's, as the other suites use); it is copied into the etcd image. */
export const ETCD_BIN = process.env.ETCD_BIN ?? "/usr/bin/etcd";

/** The repository root (this file is packages/harness/{src,dist}/cluster/member-args.*). */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** The built `keyway` command (members run built output: run `tsc -b` first). */
export const KEYWAY_BIN = `${REPO_ROOT}packages/cli/bin/keyway.js`;

/** Where one member listens and what it announces. */
export interface MemberAddress {
  readonly name: string;
  readonly dataDir: string;
  /** Host:port the member binds for clients (e.g. 0.0.0.0:2379). */
  readonly listenClient: string;
  /** Client URL announced to the cluster. */
  readonly clientUrl: string;
  /** Host:port the member binds for peers. */
  readonly listenPeer: string;
  /** Peer URL announced to the cluster (its proxy in process mode). */
  readonly peerUrl: string;
}

/** etcd's flags for one member of a new cluster whose members are `all`. */
function etcdArgs(member: MemberAddress, all: readonly MemberAddress[], token: string): string[] {
  return [
    ETCD_BIN,
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=http://${member.listenClient}`,
    `--advertise-client-urls=${member.clientUrl}`,
    `--listen-peer-urls=http://${member.listenPeer}`,
    `--initial-advertise-peer-urls=${member.peerUrl}`,
    `--initial-cluster=${all.map((m) => `${m.name}=${m.peerUrl}`).join(",")}`,
    "--initial-cluster-state=new",
    `--initial-cluster-token=${token}`,
    "--logger=zap",
    "--log-outputs=stderr",
    "--log-level=warn",
  ];
}

/** `keyway serve` for a one-member Keyway (no peers until Raft lands). */
function keywayArgs(member: MemberAddress, token: string): string[] {
  return [
    process.execPath,
    KEYWAY_BIN,
    "serve",
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=http://${member.listenClient}`,
    `--advertise-client-urls=${member.clientUrl}`,
    `--initial-advertise-peer-urls=${member.peerUrl}`,
    `--initial-cluster-token=${token}`,
    "--log-level=warn",
  ];
}

/** The argv (program first) that runs `member` of a `target` cluster. */
export function memberArgv(
  target: Target,
  member: MemberAddress,
  all: readonly MemberAddress[],
  token: string,
): string[] {
  if (target === "keyway" && all.length !== 1) {
    throw new Error(`Keyway clusters have 1 member until Raft lands (asked for ${all.length})`);
  }
  return target === "etcd" ? etcdArgs(member, all, token) : keywayArgs(member, token);
}
