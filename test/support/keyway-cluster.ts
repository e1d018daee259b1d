import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KeywayProcess, startKeywayProcess } from "./keyway-process.js";
import { freePort } from "./ports.js";

/** One member's fixed place: it keeps its ports and data dir across restarts. */
export interface ClusterMember {
  readonly name: string;
  readonly endpoint: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** The running process; undefined while the member is down (or not started yet). */
  process: KeywayProcess | undefined;
}

/** A Keyway cluster of real processes on loopback, started with etcd's cluster flags. */
export interface KeywayCluster extends AsyncDisposable {
  /** Every member, in the order started or prepared. */
  readonly members: readonly ClusterMember[];
  /** Client URLs of every member, in `members` order. */
  readonly endpoints: string[];
  /** Client URLs of the members whose process runs. */
  live(): string[];
  /** SIGKILL member `index`. */
  kill(index: number): Promise<void>;
  /** Starts member `index` again on its data dir and ports; resolves once it is healthy. */
  restart(index: number): Promise<void>;
  /**
   * A place for a new member named `name`, not started: give its peer URL to MemberAdd, then
   * {@link join} it.
   */
  prepare(name: string): Promise<ClusterMember>;
  /**
   * Starts a prepared member with `--initial-cluster-state=existing`, `--initial-cluster` naming
   * every member of the fixture; resolves once it is healthy.
   */
  join(member: ClusterMember): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link startKeywayCluster}. */
export interface KeywayClusterOptions {
  /** Member names; default m1, m2, ... */
  names?: readonly string[];
}

/** Starts `size` members of a new cluster together and waits until each is healthy. */
export async function startKeywayCluster(
  size: number,
  extraArgs: readonly string[] = [],
  options: KeywayClusterOptions = {},
): Promise<KeywayCluster> {
  const root = mkdtempSync(join(tmpdir(), "keyway-cluster-"));
  const members: ClusterMember[] = [];
  const ports = new Map<ClusterMember, number>();
  /** The flags each member was first started with (a restart passes them again; its WAL wins). */
  const flags = new Map<ClusterMember, string[]>();
  // freePort may hand out a port again once it is closed: each member gets its own.
  const taken = new Set<number>();
  const distinctPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (taken.has(port)) continue;
      taken.add(port);
      return port;
    }
  };
  const prepare = async (name: string): Promise<ClusterMember> => {
    const [port, peerPort] = [await distinctPort(), await distinctPort()];
    const member: ClusterMember = {
      name,
      endpoint: `http://127.0.0.1:${port}`,
      peerUrl: `http://127.0.0.1:${peerPort}`,
      dataDir: join(root, name),
      process: undefined,
    };
    members.push(member);
    ports.set(member, port);
    return member;
  };
  const run = async (member: ClusterMember) => {
    member.process = await startKeywayProcess({
      dataDir: member.dataDir,
      port: ports.get(member) as number,
      extraArgs: flags.get(member) as string[],
    });
  };
  let token = "";
  const launch = (member: ClusterMember, state: "new" | "existing") => {
    flags.set(member, [
      `--name=${member.name}`,
      `--listen-peer-urls=${member.peerUrl}`,
      `--initial-advertise-peer-urls=${member.peerUrl}`,
      `--initial-cluster=${members.map((m) => `${m.name}=${m.peerUrl}`).join(",")}`,
      `--initial-cluster-state=${state}`,
      `--initial-cluster-token=${token}`,
      ...extraArgs,
    ]);
    return run(member);
  };
  const close = async () => {
    await Promise.all(members.map((m) => m.process?.close()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= size; i++) await prepare(options.names?.[i - 1] ?? `m${i}`);
    token = `keyway-cluster-${process.pid}-${ports.get(members[0] as ClusterMember)}`;
    await Promise.all(members.map((m) => launch(m, "new")));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    members,
    get endpoints() {
      return members.map((m) => m.endpoint);
    },
    live: () => members.filter((m) => m.process !== undefined).map((m) => m.endpoint),
    async kill(index) {
      const member = members[index] as ClusterMember;
      await member.process?.kill();
      member.process = undefined;
    },
    restart: (index) => run(members[index] as ClusterMember),
    prepare,
    join: (member) => launch(member, "existing"),
    close,
    [Symbol.asyncDispose]: close,
  };
}
