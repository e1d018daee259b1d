import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KeywayProcess, startKeywayProcess } from "./keyway-process.js";
import { freePort } from "./ports.js";

/** The token every member of a test cluster is started with. */
export const CLUSTER_TOKEN = "keyway-test";

/** One member of a {@link KeywayCluster}: its addresses, and its process while it runs. */
export interface ClusterMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly clientPort: number;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** The flags it was first started with (a restart passes them again; its WAL wins). */
  args: string[];
  process: KeywayProcess | undefined;
}

/** Keyway members on loopback started with etcd's cluster flags; every process is stopped by `close`. */
export interface KeywayCluster extends AsyncDisposable {
  readonly members: ClusterMember[];
  /** Client URLs of the members whose process runs. */
  endpoints(): string[];
  /**
   * Addresses for a new member named `name` (not started): call MemberAdd with its peer URL, then
   * {@link join}.
   */
  prepare(name: string): Promise<ClusterMember>;
  /**
   * Starts a prepared member with `--initial-cluster-state=existing` and `--initial-cluster`
   * naming the cluster's members (those in `names`, this one included); resolves once it serves.
   */
  join(member: ClusterMember, names: readonly string[]): Promise<void>;
  /** Starts a stopped or killed member again on its data dir, with the same flags. */
  restart(member: ClusterMember): Promise<void>;
  close(): Promise<void>;
}

/** Starts `size` members of a new cluster at once and waits until each serves. */
export async function startKeywayCluster(size: number): Promise<KeywayCluster> {
  const root = mkdtempSync(join(tmpdir(), "keyway-cluster-"));
  const members: ClusterMember[] = [];
  // freePort may hand out a port again once it is closed: each member gets its own.
  const taken = new Set<number>();
  const distinctPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  const prepare = async (name: string): Promise<ClusterMember> => {
    const [clientPort, peerPort] = [await distinctPort(), await distinctPort()];
    const member: ClusterMember = {
      name,
      clientPort,
      clientUrl: `http://127.0.0.1:${clientPort}`,
      peerUrl: `http://127.0.0.1:${peerPort}`,
      dataDir: join(root, name),
      args: [],
      process: undefined,
    };
    members.push(member);
    return member;
  };
  const launch = async (member: ClusterMember, names: readonly string[], state: "new" | "existing") => {
    const initial = members.filter((m) => names.includes(m.name));
    member.args = [
      `--name=${member.name}`,
      `--listen-peer-urls=${member.peerUrl}`,
      `--initial-advertise-peer-urls=${member.peerUrl}`,
      `--initial-cluster=${initial.map((m) => `${m.name}=${m.peerUrl}`).join(",")}`,
      `--initial-cluster-state=${state}`,
      `--initial-cluster-token=${CLUSTER_TOKEN}`,
    ];
    await restart(member);
  };
  const restart = async (member: ClusterMember) => {
    member.process = await startKeywayProcess({
      dataDir: member.dataDir,
      port: member.clientPort,
      extraArgs: member.args,
    });
  };
  const cluster: KeywayCluster = {
    members,
    endpoints: () => members.filter((m) => m.process !== undefined).map((m) => m.clientUrl),
    prepare,
    join: (member, names) => launch(member, names, "existing"),
    restart,
    async close() {
      await Promise.all(members.map((m) => m.process?.close()));
      rmSync(root, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]() {
      return cluster.close();
    },
  };
  try {
    for (let i = 0; i < size; i++) await prepare(`m${i}`);
    const names = members.map((m) => m.name);
    await Promise.all(members.map((m) => launch(m, names, "new")));
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return cluster;
}
