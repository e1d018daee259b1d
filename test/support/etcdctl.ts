import { spawnSync } from "node:child_process";
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
