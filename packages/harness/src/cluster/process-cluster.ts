import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeywayClient } from "@keyway/client";
import { freePort } from "./free-port.js";
import { type MemberAddress, memberArgv } from "./member-args.js";
import { PeerProxy } from "./peer-proxy.js";
import type { Cluster, ClusterOptions } from "./types.js";
import { waitServing } from "./wait-serving.js";

/** Bytes of a member's stderr kept for error messages. */
const LOG_TAIL_BYTES = 8 * 1024;

/** One member process, restartable on its data dir. */
class MemberProcess {
  private child: ChildProcess | undefined;
  private logTail = "";

  constructor(private readonly argv: readonly string[]) {}

  start(): void {
    const [program = "", ...args] = this.argv;
    const child = spawn(program, args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.logTail = (this.logTail + chunk.toString()).slice(-LOG_TAIL_BYTES);
    });
    this.child = child;
  }

  log(): Promise<string> {
    return Promise.resolve(this.logTail);
  }

  /** Sends `signal` to the process this object started (by its PID). */
  signal(signal: NodeJS.Signals): void {
    if (this.child?.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGKILL and wait until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGCONT"); // a stopped process still dies of SIGKILL, but resume keeps the order plain
    child.kill("SIGKILL");
    await exited;
  }
}

/**
 * Starts a `target` cluster as plain processes on 127.0.0.1, for machines without Docker. etcd
 * members reach each other through a {@link PeerProxy} per member, which is how partitions are
 * made: it cannot drop one direction of TCP alone, so `dropPeers` cuts the links both ways.
 * Pause is SIGSTOP, kill is SIGKILL, each by the PID this function started.
 */
export async function startProcessCluster(options: ClusterOptions): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), "keyway-harness-proc-"));
  const addresses: MemberAddress[] = [];
  for (let i = 0; i < options.members; i++) {
    const [clientPort, peerPort, proxyPort] = [await freePort(), await freePort(), await freePort()];
    addresses.push({
      name: `m${i}`,
      dataDir: join(root, `m${i}`),
      listenClient: `127.0.0.1:${clientPort}`,
      clientUrl: `http://127.0.0.1:${clientPort}`,
      listenPeer: `127.0.0.1:${peerPort}`,
      peerUrl: `http://127.0.0.1:${proxyPort}`,
    });
  }
  const token = `keyway-harness-${process.pid}-${options.seed ?? 0}`;
  const processes = addresses.map((a) => new MemberProcess(memberArgv(options.target, a, addresses, token)));
  const proxies: PeerProxy[] = [];
  const teardown = async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await Promise.all(proxies.map((p) => p.close()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const a of addresses) {
      proxies.push(
        await PeerProxy.start(Number(new URL(a.peerUrl).port), Number(a.listenPeer.split(":")[1])),
      );
    }
    for (const p of processes) p.start();
    await Promise.all(
      addresses.map((a, i) => waitServing(a.clientUrl, () => (processes[i] as MemberProcess).log())),
    );
    const ids = await memberIdsByPeerUrl(addresses);
    return processCluster(options, addresses, processes, proxies, ids, teardown);
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** Each member's id in hex (as etcd's `X-Server-From` spells it), in member order. */
async function memberIdsByPeerUrl(addresses: readonly MemberAddress[]): Promise<string[]> {
  const client = new KeywayClient({ endpoints: addresses.map((a) => a.clientUrl) });
  try {
    const members = await client.cluster.memberList({ timeoutMs: 5_000 });
    return addresses.map((a) => members.find((m) => m.peerUrls.includes(a.peerUrl))?.id.toString(16) ?? "");
  } finally {
    await client.close();
  }
}

function processCluster(
  options: ClusterOptions,
  addresses: readonly MemberAddress[],
  processes: readonly MemberProcess[],
  proxies: readonly PeerProxy[],
  ids: readonly string[],
  teardown: () => Promise<void>,
): Cluster {
  const proc = (index: number) => {
    const p = processes[index];
    if (p === undefined) throw new Error(`no member ${index}`);
    return p;
  };
  let closed = false;
  const cluster: Cluster = {
    target: options.target,
    mode: "process",
    members: addresses.map((a) => ({ name: a.name, endpoint: a.clientUrl })),
    endpoints: addresses.map((a) => a.clientUrl),
    kill: (index) => proc(index).kill(),
    async restart(index) {
      proc(index).start();
      await waitServing((addresses[index] as MemberAddress).clientUrl, () => proc(index).log());
    },
    pause: async (index) => proc(index).signal("SIGSTOP"),
    resume: async (index) => proc(index).signal("SIGCONT"),
    async dropPeers(index, peers) {
      for (const peer of peers) {
        proxies[index]?.drop(ids[peer] ?? "");
        proxies[peer]?.drop(ids[index] ?? "");
      }
    },
    heal: async () => {
      for (const proxy of proxies) proxy.heal();
    },
    async close() {
      if (closed) return;
      closed = true;
      await teardown();
    },
    [Symbol.asyncDispose]: () => cluster.close(),
  };
  return cluster;
}
