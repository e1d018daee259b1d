/**
 * A small data-driven test format, after cockroachdb/datadriven as used by etcd-io/raft:
 *
 *     # comment
 *     command arg key=value key=(a,b)
 *     ----
 *     expected output (no blank lines)
 *
 * Blocks are separated by blank lines. `RAFT_REWRITE=1` rewrites the expected outputs for review.
 */
import { readFileSync, writeFileSync } from "node:fs";

/** One parsed command line. */
export interface Command {
  readonly name: string;
  /** Positional arguments. */
  readonly args: readonly string[];
  /** key=value arguments; `key=(a,b)` values are lists. */
  readonly kv: ReadonlyMap<string, string | readonly string[]>;
  readonly line: string;
}

/** Splits a command line into name, positional and key=value arguments. */
export function parseCommand(line: string): Command {
  const tokens = line.match(/\S+=\([^)]*\)|\([^)]*\)|\S+/g) ?? [];
  const [name = "", ...rest] = tokens;
  const args: string[] = [];
  const kv = new Map<string, string | string[]>();
  for (const t of rest) {
    const eq = t.indexOf("=");
    if (eq <= 0) {
      args.push(t);
      continue;
    }
    const value = t.slice(eq + 1);
    const list = value.startsWith("(") && value.endsWith(")");
    kv.set(
      t.slice(0, eq),
      list
        ? value
            .slice(1, -1)
            .split(",")
            .filter((s) => s !== "")
        : value,
    );
  }
  return { name, args, kv, line };
}

/**
 * Runs every block of `path` through `run` and returns the file as it should read. When the
 * environment variable RAFT_REWRITE is set, also writes that text back to the file.
 */
export function runDataDriven(
  path: string,
  run: (cmd: Command) => string,
): { expected: string; actual: string } {
  const expected = readFileSync(path, "utf8");
  const lines = expected.split("\n");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === "" || line.startsWith("#")) {
      out.push(line);
      i++;
      continue;
    }
    out.push(line, "----");
    i++;
    if (lines[i] === "----") i++;
    while (i < lines.length && lines[i]!.trim() !== "") i++; // skip the old output
    const result = run(parseCommand(line)).replace(/\n+$/, "");
    out.push(result === "" ? "ok" : result);
  }
  const actual = out.join("\n");
  if (process.env.RAFT_REWRITE) writeFileSync(path, actual);
  return { expected, actual };
}
