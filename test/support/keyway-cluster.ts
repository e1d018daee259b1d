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
  /** The running process; undefined while the member is down. */
  process: KeywayProcess | undefined;
}

/** A Keyway cluster of real processes on loopback, started with etcd's cluster flags. */
export interface KeywayCluster extends AsyncDisposable {
  readonly members: readonly ClusterMember[];
  readonly endpoints: string[];
  /** SIGKILL member `index`. */
  kill(index: number): Promise<void>;
  /** Starts member `index` again on its data dir and ports; resolves once it is healthy. */
  restart(index: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts `size` members of a new cluster together and waits until each is healthy. */
export async function startKeywayCluster(
  size: number,
  extraArgs: readonly string[] = [],
): Promise<KeywayCluster> {
  const root = mkdtempSync(join(tmpdir(), "keyway-cluster-"));
  const places: Array<{ name: string; port: number; peerPort: number }> = [];
  for (let i = 1; i <= size; i++)
    places.push({ name: `m${i}`, port: await freePort(), peerPort: await freePort() });
  const initialCluster = places.map((p) => `${p.name}=http://127.0.0.1:${p.peerPort}`).join(",");
  const token = `keyway-cluster-${process.pid}-${places[0]?.port}`;
  const members: ClusterMember[] = places.map((p) => ({
    name: p.name,
    endpoint: `http://127.0.0.1:${p.port}`,
    peerUrl: `http://127.0.0.1:${p.peerPort}`,
    dataDir: join(root, p.name),
    process: undefined,
  }));
  const start = async (index: number) => {
    const member = members[index] as ClusterMember;
    const place = places[index] as (typeof places)[number];
    member.process = await startKeywayProcess({
      dataDir: member.dataDir,
      port: place.port,
      extraArgs: [
        `--name=${member.name}`,
        `--listen-peer-urls=${member.peerUrl}`,
        `--initial-advertise-peer-urls=${member.peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-token=${token}`,
        ...extraArgs,
      ],
    });
  };
  const close = async () => {
    await Promise.all(members.map((m) => m.process?.close()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await Promise.all(members.map((_, i) => start(i)));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    members,
    endpoints: members.map((m) => m.endpoint),
    async kill(index) {
      const member = members[index] as ClusterMember;
      await member.process?.kill();
      member.process = undefined;
    },
    restart: start,
    close,
    [Symbol.asyncDispose]: close,
  };
}
