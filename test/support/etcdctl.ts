import { spawn, spawnSync } from "node:child_process";
import { ETCDCTL_BIN } from "./etcd-process.js";

/** What one etcdctl invocation printed. */
export interface CtlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs etcdctl 3.4 against one endpoint, with optional standard input (for `txn`). */
export function etcdctl(endpoint: string, args: readonly string[], stdin?: string): CtlResult {
  const result = spawnSync(ETCDCTL_BIN, [`--endpoints=${endpoint}`, "--command-timeout=10s", ...args], {
    env: { ...process.env, ETCDCTL_API: "3" },
    input: stdin ?? "",
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Blanks what legitimately differs between two servers running the same operations: member and
 * cluster ids, the Raft term, and timings. Revisions, values, counts and errors stay.
 * `leaseIds` names server-chosen lease ids (id → name): each is replaced by `<name>` wherever
 * etcdctl prints it, as 16-digit hex (text output) or as a decimal (JSON output).
 */
export function normalise(result: CtlResult, leaseIds: ReadonlyMap<bigint, string> = new Map()): CtlResult {
  const clean = (text: string) =>
    [...leaseIds]
      .reduce(
        (out, [id, name]) =>
          out
            .replaceAll(id.toString(16).padStart(16, "0"), `<${name}>`)
            .replaceAll(id.toString(), `<${name}>`),
        text,
      )
      .replace(/"(cluster_id|member_id|raft_term)":\d+/g, '"$1":0')
      .replace(/took = [0-9.]+[µm]?s/g, "took = <t>")
      // etcdctl's own retry warnings carry a timestamp and a per-process client target.
      .replace(/"ts":"[^"]*"/g, '"ts":"<t>"')
      .replace(/"target":"[^"]*"/g, '"target":"<target>"');
  return { status: result.status, stdout: clean(result.stdout), stderr: clean(result.stderr) };
}

/** Splits a command line on spaces, keeping single-quoted words whole. */
export function splitArgs(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
}

/** Options of {@link etcdctlWatch}. */
export interface WatchRunOptions {
  /** Lines written to stdin at start (for `watch -i`); stdin stays open until the process stops. */
  stdin?: string;
  /** Stops the process once this holds for stdout (etcdctl watch runs until killed). */
  until: (stdout: string) => boolean;
  /** Gives up after this long (default 10 s); the output so far is returned either way. */
  timeoutMs?: number;
  /** Keeps collecting this long after `until` held, to catch anything extra (default 150 ms). */
  graceMs?: number;
}

/**
 * Runs a long-lived `etcdctl watch` with bounded waits: collects output until `until` holds (or
 * the process exits by itself, as on a compacted watch), then stops it with SIGTERM.
 */
export function etcdctlWatch(
  endpoint: string,
  args: readonly string[],
  options: WatchRunOptions,
): Promise<CtlResult> {
  const child = spawn(ETCDCTL_BIN, [`--endpoints=${endpoint}`, ...args], {
    env: { ...process.env, ETCDCTL_API: "3" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  if (options.stdin !== undefined) child.stdin.write(options.stdin);
  return new Promise((resolve) => {
    let stopping = false;
    const finish = (status: number | null) => {
      clearInterval(poll);
      clearTimeout(deadline);
      resolve({ status, stdout, stderr });
    };
    const stop = () => {
      if (stopping) return;
      stopping = true;
      setTimeout(() => child.kill("SIGTERM"), options.graceMs ?? 150);
    };
    child.once("exit", (code) => finish(stopping ? null : code));
    const poll = setInterval(() => {
      if (options.until(stdout)) stop();
    }, 20);
    const deadline = setTimeout(stop, options.timeoutMs ?? 10_000);
  });
}
