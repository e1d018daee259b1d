import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { DOCKER_BIN, docker } from "./docker-cli.js";
import { createNetwork, type HarnessNetwork } from "./docker-network.js";
import { ensureImage } from "./images.js";
import { type MemberAddress, memberArgv, REPO_ROOT } from "./member-args.js";
import type { Cluster, ClusterMember, ClusterOptions, Direction } from "./types.js";
import { waitServing } from "./wait-serving.js";

const run = promisify(execFile);

/** The container's last log lines (etcd and Keyway log to stderr, so both streams). */
async function containerLogs(id: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(DOCKER_BIN, ["logs", "--tail", "40", id]);
    return stdout + stderr;
  } catch (err) {
    return String(err);
  }
}

const CLIENT_PORT = 2379;
const PEER_PORT = 2380;

/** A member container with a fixed address on the harness's network (testcontainers has no builder for it). */
class MemberContainer extends GenericContainer {
  constructor(image: string, network: string, address: string) {
    super(image);
    this.withNetworkMode(network);
    this.createOpts.NetworkingConfig = {
      EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: address } } },
    };
  }
}

interface RunningMember extends ClusterMember {
  readonly address: string;
  readonly container: StartedTestContainer;
}

/** The PID of the container's init process on the host (0 when it is not running). */
async function hostPid(id: string): Promise<number> {
  return Number(await docker(["inspect", "--format", "{{.State.Pid}}", id]));
}

/** Attempts of `docker pause` before falling back to SIGSTOP. */
const FREEZE_ATTEMPTS = 3;

/**
 * Pauses a container with the cgroup freezer (`docker pause`). On a busy machine the freezer can
 * time out ("unable to freeze"; runc thaws the container again); after a few attempts the member's
 * one process gets SIGSTOP instead, which stops it just as well. Resolves false in that case.
 */
async function freeze(id: string): Promise<boolean> {
  for (let attempt = 1; attempt <= FREEZE_ATTEMPTS; attempt++) {
    try {
      await docker(["pause", id]);
      return true;
    } catch (err) {
      if (!String(err).includes("unable to freeze")) throw err;
    }
  }
  await docker(["kill", "--signal", "STOP", id]);
  return false;
}

/** Runs iptables inside the network namespace of the process `pid` (the host's binary). */
async function iptablesIn(pid: number, args: readonly string[]): Promise<void> {
  await run("nsenter", ["-t", String(pid), "-n", "iptables", "-w", ...args]);
}

/**
 * Starts a `target` cluster of `members` members, one container each on a fresh bridge network,
 * and waits until every member serves. Data dirs are host temp dirs bind-mounted at /data, so a
 * member's data survives `docker kill` + `docker start`. Requires a Docker engine.
 */
export async function startContainerCluster(options: ClusterOptions): Promise<Cluster> {
  const seed = options.seed ?? 0;
  const image = await ensureImage(options.target);
  const runId = `${Date.now().toString(36)}-${process.pid}`;
  const network = await createNetwork(`keyway-harness-${runId}`, seed);
  const dataRoot = mkdtempSync(join(tmpdir(), "keyway-harness-data-"));
  const started: RunningMember[] = [];
  try {
    const addresses: MemberAddress[] = [];
    for (let i = 0; i < options.members; i++) {
      const ip = `${network.prefix}${10 + i}`;
      addresses.push({
        name: `m${i}`,
        dataDir: `/data/m${i}`,
        listenClient: `0.0.0.0:${CLIENT_PORT}`,
        clientUrl: `http://${ip}:${CLIENT_PORT}`,
        listenPeer: `0.0.0.0:${PEER_PORT}`,
        peerUrl: `http://${ip}:${PEER_PORT}`,
      });
    }
    const containers = await Promise.all(
      addresses.map((address, i) => {
        const ip = `${network.prefix}${10 + i}`;
        const container = new MemberContainer(image, network.name, ip)
          .withName(`${network.name}-m${i}`)
          .withLabels({ "keyway.harness": "true" })
          .withCommand(memberArgv(options.target, address, addresses, network.name))
          .withBindMounts([
            { source: dataRoot, target: "/data", mode: "rw" },
            // The Keyway image holds node only; the built repository is read at its host path.
            ...(options.target === "keyway"
              ? [{ source: REPO_ROOT, target: REPO_ROOT, mode: "ro" as const }]
              : []),
          ]);
        return container
          .start()
          .then((c) => ({ name: address.name, endpoint: address.clientUrl, address: ip, container: c }));
      }),
    );
    started.push(...containers);
    await Promise.all(started.map((m) => waitServing(m.endpoint, () => containerLogs(m.container.getId()))));
    return containerCluster(options, started, network, dataRoot);
  } catch (err) {
    await removeAll(started, network, dataRoot);
    throw err;
  }
}

/** Removes the members' containers, the network and the data, each by the id the harness got. */
async function removeAll(
  members: readonly RunningMember[],
  network: HarnessNetwork,
  dataRoot: string,
): Promise<void> {
  const results = await Promise.allSettled(
    members.map(async (m) => {
      // A frozen container cannot be stopped cleanly; thaw it first (an error means it was not frozen).
      await docker(["unpause", m.container.getId()]).catch(() => undefined);
      await docker(["rm", "--force", "--volumes", m.container.getId()]);
    }),
  );
  const networkRemoved = await network.remove().then(
    () => undefined,
    (err: unknown) => err,
  );
  rmSync(dataRoot, { recursive: true, force: true });
  const failures = [
    ...results.flatMap((r) => (r.status === "rejected" ? [r.reason] : [])),
    networkRemoved,
  ].filter((e) => e !== undefined);
  if (failures.length > 0) throw new AggregateError(failures, "cleaning up the container cluster failed");
}

function containerCluster(
  options: ClusterOptions,
  members: readonly RunningMember[],
  network: HarnessNetwork,
  dataRoot: string,
): Cluster {
  const member = (index: number): RunningMember => {
    const m = members[index];
    if (m === undefined) throw new Error(`no member ${index}`);
    return m;
  };
  const id = (index: number) => member(index).container.getId();
  // Members paused by SIGSTOP because the cgroup freezer gave up (see freeze).
  const stoppedBySignal = new Set<number>();
  let closed = false;
  const cluster: Cluster = {
    target: options.target,
    mode: "container",
    members,
    endpoints: members.map((m) => m.endpoint),
    async kill(index) {
      await docker(["kill", "--signal", "KILL", id(index)]);
      await docker(["wait", id(index)]); // until it is down, so a restart starts it anew
    },
    async restart(index) {
      await docker(["start", id(index)]);
      await waitServing(member(index).endpoint, () => containerLogs(id(index)));
    },
    async pause(index) {
      if (!(await freeze(id(index)))) stoppedBySignal.add(index);
    },
    async resume(index) {
      if (stoppedBySignal.delete(index)) await docker(["kill", "--signal", "CONT", id(index)]);
      else await docker(["unpause", id(index)]);
    },
    async dropPeers(index, peers, direction: Direction) {
      const pid = await hostPid(id(index));
      if (pid === 0) throw new Error(`member ${index} is not running`);
      for (const peer of peers) {
        const ip = member(peer).address;
        const rule = direction === "in" ? ["INPUT", "-s", ip] : ["OUTPUT", "-d", ip];
        await iptablesIn(pid, ["-A", ...rule, "-j", "DROP"]);
      }
    },
    async heal() {
      for (let i = 0; i < members.length; i++) {
        const pid = await hostPid(id(i));
        if (pid === 0) continue; // not running: its namespace and rules are gone
        await iptablesIn(pid, ["-F", "INPUT"]);
        await iptablesIn(pid, ["-F", "OUTPUT"]);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await removeAll(members, network, dataRoot);
    },
    [Symbol.asyncDispose]: () => cluster.close(),
  };
  return cluster;
}
