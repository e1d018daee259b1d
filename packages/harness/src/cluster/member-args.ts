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

/**
 * The cluster flags of one member of a new cluster whose members are `all`: etcd's, which Keyway
 * takes too.
 */
function clusterFlags(member: MemberAddress, all: readonly MemberAddress[], token: string): string[] {
  return [
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=http://${member.listenClient}`,
    `--advertise-client-urls=${member.clientUrl}`,
    `--listen-peer-urls=http://${member.listenPeer}`,
    `--initial-advertise-peer-urls=${member.peerUrl}`,
    `--initial-cluster=${all.map((m) => `${m.name}=${m.peerUrl}`).join(",")}`,
    "--initial-cluster-state=new",
    `--initial-cluster-token=${token}`,
  ];
}

/** The argv (program first) that runs `member` of a `target` cluster. */
export function memberArgv(
  target: Target,
  member: MemberAddress,
  all: readonly MemberAddress[],
  token: string,
): string[] {
  const flags = clusterFlags(member, all, token);
  return target === "etcd"
    ? [ETCD_BIN, ...flags, "--logger=zap", "--log-outputs=stderr", "--log-level=warn"]
    : [process.execPath, KEYWAY_BIN, "serve", ...flags, "--log-level=warn"];
}
