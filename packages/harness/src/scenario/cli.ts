#!/usr/bin/env node
import { randomInt } from "node:crypto";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { formatReport } from "../check/index.js";
import type { ClusterMode } from "../cluster/start.js";
import type { Target } from "../cluster/types.js";
import { FAULT_KINDS, parseFaultKind } from "../faults/types.js";
import { serializeHistory } from "../history/json.js";
import type { FaultRecord } from "../history/types.js";
import { runScenario } from "./run.js";

const USAGE = `usage: pnpm --filter @keyway/harness run scenario -- [options]
  --target etcd|keyway      what the cluster runs (default etcd)
  --members N               cluster size, 1..5 (default 3)
  --fault KIND              ${FAULT_KINDS.join(" | ")} (default kill)
  --seed N                  replays a run (default: random, printed first)
  --duration D              traffic length: 20s, 2m, 1500ms (default 20s)
  --mode auto|container|process   (default auto: containers when Docker answers)
  --clients N               traffic clients (default 4)
  --check-timeout D         budget of the linearizability search (default 30s)
  --save-history FILE       write the recorded history as JSON (parseHistory reads it back)`;

/** A duration such as `20s`, `2m`, `1500ms` or a bare number of ms, in ms. */
function parseDurationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (match === null) throw new Error(`bad duration ${JSON.stringify(text)} (e.g. 20s, 2m, 1500ms)`);
  const unit = match[2] ?? "ms";
  return Math.round(Number(match[1]) * (unit === "m" ? 60_000 : unit === "s" ? 1_000 : 1));
}

function pick<T extends string>(value: string, allowed: readonly T[], what: string): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new Error(`${what} must be one of ${allowed.join(", ")}`);
  return found;
}

function describeFault(record: FaultRecord, originNs: bigint): string {
  const atMs = Number(record.atNs - originNs) / 1e6;
  const detail = record.detail === undefined ? "" : ` (${record.detail})`;
  return `  +${atMs.toFixed(0)}ms ${record.action} m${record.members.join(",m")}${detail}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== "--"),
    options: {
      target: { type: "string", default: "etcd" },
      members: { type: "string" },
      fault: { type: "string", default: "kill" },
      seed: { type: "string" },
      duration: { type: "string", default: "20s" },
      mode: { type: "string", default: "auto" },
      clients: { type: "string" },
      "check-timeout": { type: "string" },
      "save-history": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const target = pick<Target>(values.target, ["etcd", "keyway"], "--target");
  const seed = values.seed === undefined ? randomInt(1, 2 ** 31) : Number(values.seed);
  const originNs = process.hrtime.bigint();
  console.log(`seed ${seed}`);
  const result = await runScenario({
    target,
    members: Number(values.members ?? 3),
    fault: parseFaultKind(values.fault),
    seed,
    durationMs: parseDurationMs(values.duration),
    mode: pick<ClusterMode>(values.mode, ["auto", "container", "process"], "--mode"),
    ...(values.clients === undefined ? {} : { clients: Number(values.clients) }),
    ...(values["check-timeout"] === undefined
      ? {}
      : { checkTimeoutMs: parseDurationMs(values["check-timeout"]) }),
    onFault: (record) => console.log(describeFault(record, originNs)),
  });
  console.log(`mode ${result.mode}`);
  if (values["save-history"] !== undefined) {
    writeFileSync(values["save-history"], serializeHistory(result.history));
    console.log(`history saved to ${values["save-history"]}`);
  }
  console.log(formatReport(result.report, result.history));
  console.log(`replay: ${result.replay}`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    console.error(USAGE);
    process.exitCode = 2;
  },
);
