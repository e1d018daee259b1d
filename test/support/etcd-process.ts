import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

/** Path of Debian's etcd 3.4 binary; the compatibility suites compare Keyway against it. */
export const ETCD_BIN = process.env.ETCD_BIN ?? "/usr/bin/etcd";
/** Path of Debian's etcdctl 3.4 binary. */
export const ETCDCTL_BIN = process.env.ETCDCTL_BIN ?? "/usr/bin/etcdctl";

/** True when the etcd binaries can run here. */
export function etcdAvailable(): boolean {
  return spawnSync(ETCD_BIN, ["--version"]).status === 0 && spawnSync(ETCDCTL_BIN, ["version"]).status === 0;
}

/**
 * Fails loudly in CI when etcd is missing: suites that compare against etcd must never be
 * silently skipped there. Returns false (skip) only on a developer machine without etcd.
 */
export function requireEtcd(): boolean {
  if (etcdAvailable()) return true;
  if (process.env.CI === "true") {
    throw new Error(`etcd is required in CI but ${ETCD_BIN} or ${ETCDCTL_BIN} cannot run`);
  }
  return false;
}

/** One member of a real etcd cluster started on loopback by a test. */
export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  process: ChildProcess | undefined;
}

/** A real etcd cluster of one or more members on loopback, for differential and failover tests. */
export interface EtcdCluster extends AsyncDisposable {
  readonly members: EtcdMember[];
  /** Client URLs of all members, in order. */
  readonly endpoints: string[];
  /** SIGKILLs one member by the PID this fixture started. */
  kill(index: number): Promise<void>;
  /** Starts a killed member again with its data dir. */
  restart(index: number): Promise<void>;
  close(): Promise<void>;
}

/** TLS of etcd's client URLs (peer URLs stay plain http). Paths of PEM files. */
export interface EtcdTlsOptions {
  /** Server certificate (`--cert-file`). */
  certFile: string;
  /** Its private key (`--key-file`). */
  keyFile: string;
  /**
   * CA that signs client certificates (`--trusted-ca-file`); also what etcdctl trusts. etcd 3.4
   * then requires a client certificate even without `clientCertAuth`.
   */
  trustedCaFile?: string;
  /** Require a client certificate signed by `trustedCaFile` (`--client-cert-auth`). */
  clientCertAuth?: boolean;
}

/** Options of {@link startEtcdCluster}. */
export interface ClusterOptions {
  /** Members; default 1. */
  size?: number;
  /** Extra etcd flags for every member. */
  extraArgs?: string[];
  /** Serve clients over https:// with these certificates; default plain http://. */
  tls?: EtcdTlsOptions;
}

/** Starts a real etcd cluster (default: one member) and waits until every member is healthy. */
export async function startEtcdCluster(options: ClusterOptions = {}): Promise<EtcdCluster> {
  const size = options.size ?? 1;
  const tls = options.tls;
  const scheme = tls === undefined ? "http" : "https";
  const root = mkdtempSync(join(tmpdir(), "keyway-etcd-"));
  const members: EtcdMember[] = [];
  for (let i = 0; i < size; i++) {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    members.push({
      name: `m${i}`,
      clientUrl: `${scheme}://127.0.0.1:${clientPort}`,
      peerUrl: `http://127.0.0.1:${peerPort}`,
      dataDir: join(root, `m${i}`),
      process: undefined,
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
  const launch = (m: EtcdMember) => {
    const args = [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=${m.clientUrl}`,
      `--advertise-client-urls=${m.clientUrl}`,
      `--listen-peer-urls=${m.peerUrl}`,
      `--initial-advertise-peer-urls=${m.peerUrl}`,
      `--initial-cluster=${initialCluster}`,
      "--initial-cluster-state=new",
      "--initial-cluster-token=keyway-test",
      "--logger=zap",
      "--log-outputs=stderr",
      "--log-level=error",
      ...tlsArgs(tls),
      ...(options.extraArgs ?? []),
    ];
    m.process = spawn(ETCD_BIN, args, { stdio: ["ignore", "ignore", "pipe"] });
    m.process.stderr?.resume();
  };
  members.forEach(launch);
  const health = tls === undefined ? undefined : etcdctlTls(tls);
  await Promise.all(members.map((m) => waitHealthy(m.clientUrl, undefined, health)));

  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((m) => m.clientUrl),
    async kill(index) {
      const m = members[index];
      if (m?.process === undefined) return;
      await stopProcess(m.process, "SIGKILL");
      m.process = undefined;
    },
    async restart(index) {
      const m = members[index];
      if (m === undefined || m.process !== undefined) return;
      launch(m);
      await waitHealthy(m.clientUrl, undefined, health);
    },
    async close() {
      await Promise.all(
        members.map(async (m) => {
          if (m.process !== undefined) await stopProcess(m.process, "SIGTERM");
          m.process = undefined;
        }),
      );
      rmSync(root, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]() {
      return cluster.close();
    },
  };
  return cluster;
}

function tlsArgs(tls: EtcdTlsOptions | undefined): string[] {
  if (tls === undefined) return [];
  return [
    `--cert-file=${tls.certFile}`,
    `--key-file=${tls.keyFile}`,
    ...(tls.trustedCaFile === undefined ? [] : [`--trusted-ca-file=${tls.trustedCaFile}`]),
    ...(tls.clientCertAuth === true ? ["--client-cert-auth"] : []),
  ];
}

/**
 * How etcdctl reaches a TLS member: it trusts `trustedCaFile` and, when the member asks for client
 * certificates, shows the server certificate, which is also valid for client auth (see
 * test/support/certs.ts). etcd 3.4 requires client certificates as soon as it has a trusted CA,
 * with or without `--client-cert-auth`.
 */
function etcdctlTls(tls: EtcdTlsOptions): EtcdctlTls {
  const asksForCert = tls.trustedCaFile !== undefined || tls.clientCertAuth === true;
  return {
    ...(tls.trustedCaFile === undefined ? {} : { caFile: tls.trustedCaFile }),
    ...(asksForCert ? { certFile: tls.certFile, keyFile: tls.keyFile } : {}),
  };
}

/** Sends a signal to a process this test started and waits for it to exit. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Files etcdctl needs for an https:// endpoint (`--cacert`, `--cert`, `--key`); without `caFile`
 * it skips verifying the server certificate.
 */
export interface EtcdctlTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/**
 * Polls etcdctl's endpoint health (also works against Keyway) until it succeeds; `tls` gives
 * etcdctl the CA and client certificate of an https:// endpoint.
 */
export async function waitHealthy(
  endpoint: string,
  timeoutMs = 20_000,
  tls?: EtcdctlTls,
  probe: readonly string[] = ["endpoint", "health"],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const args = [`--endpoints=${endpoint}`, "--dial-timeout=1s", ...etcdctlTlsArgs(tls), ...probe];
  for (;;) {
    const r = spawnSync(ETCDCTL_BIN, args, {
      env: { ...process.env, ETCDCTL_API: "3" },
      encoding: "utf8",
    });
    if (r.status === 0) return;
    if (Date.now() > deadline) throw new Error(`endpoint ${endpoint} not healthy: ${r.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function etcdctlTlsArgs(tls: EtcdctlTls | undefined): string[] {
  if (tls === undefined) return [];
  return [
    // Without a CA the probe only asks whether the member answers; the tests check verification.
    ...(tls.caFile === undefined
      ? ["--insecure-transport=false", "--insecure-skip-tls-verify"]
      : [`--cacert=${tls.caFile}`]),
    ...(tls.certFile === undefined ? [] : [`--cert=${tls.certFile}`]),
    ...(tls.keyFile === undefined ? [] : [`--key=${tls.keyFile}`]),
  ];
}
