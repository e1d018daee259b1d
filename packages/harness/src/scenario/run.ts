import { SeededRng } from "@keyway/raft";
import { type CheckReport, checkHistory } from "../check/index.js";
import { type ClusterMode, startCluster } from "../cluster/start.js";
import type { Cluster, Target } from "../cluster/types.js";
import { runFaultSchedule } from "../faults/schedule.js";
import { type FaultKind, NETWORK_FAULTS } from "../faults/types.js";
import type { FaultRecord, History } from "../history/types.js";
import { runTraffic } from "../traffic/run.js";
import { finalChecks } from "./final-checks.js";

/** Options of {@link runScenario}. */
export interface ScenarioOptions {
  readonly target: Target;
  /** Cluster size, 1 to 5. */
  readonly members: number;
  readonly fault: FaultKind;
  /** Seeds the traffic and the fault schedule; the same seed replays the same choices. */
  readonly seed: number;
  /** Length of the traffic in ms; faults stop {@link quietTailMs} before its end. */
  readonly durationMs: number;
  /** Default `auto`: containers when a Docker engine answers (and always under CI=true). */
  readonly mode?: ClusterMode;
  /** Traffic clients (default 4) and watch streams (default 2). */
  readonly clients?: number;
  readonly watchers?: number;
  /** Budget of the linearizability search in ms (default the checker's). */
  readonly checkTimeoutMs?: number;
  /** Called with each fault action as it is taken (progress output). */
  readonly onFault?: (record: FaultRecord) => void;
}

/** What a scenario found. */
export interface ScenarioResult {
  /** True when every check passed: 0 anomalies. */
  readonly ok: boolean;
  /** `<target>-<members>-<fault>`, stored in the history. */
  readonly scenario: string;
  readonly mode: Cluster["mode"];
  readonly history: History;
  /** The checkers' report plus the final checks' anomalies (lost writes, HashKV mismatch). */
  readonly report: CheckReport;
  /** The command that runs this scenario again with the same seed. */
  readonly replay: string;
}

/** Largest cluster the harness starts. */
export const MAX_MEMBERS = 5;

/** Throws when the options name an impossible scenario. */
function validate(options: ScenarioOptions): void {
  if (!Number.isInteger(options.members) || options.members < 1 || options.members > MAX_MEMBERS) {
    throw new Error(`members must be an integer in [1, ${MAX_MEMBERS}]`);
  }
  if (NETWORK_FAULTS.has(options.fault) && options.members < 3) {
    throw new Error(`fault ${options.fault} needs at least 3 members (a majority to cut from)`);
  }
  if (!Number.isSafeInteger(options.seed)) throw new Error("seed must be a safe integer");
  if (!(options.durationMs >= 1_000)) throw new Error("durationMs must be at least 1000");
}

/** The CLI command that replays `options` in the given mode. */
export function replayCommand(options: ScenarioOptions, mode: Cluster["mode"]): string {
  return [
    "pnpm --filter @keyway/harness run scenario --",
    `--target ${options.target} --members ${options.members} --fault ${options.fault}`,
    `--seed ${options.seed} --duration ${options.durationMs}ms --mode ${mode}`,
  ].join(" ");
}

/**
 * Runs one scenario: starts a cluster, runs seeded traffic while injecting `fault` on a seeded
 * schedule, heals, then checks — no acknowledged write lost, every member's HashKV equal, the
 * history linearizable and every watch valid. The cluster is removed at the end, also on failure.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  validate(options);
  const scenario = `${options.target}-${options.members}-${options.fault}`;
  const cluster = await startCluster({
    target: options.target,
    members: options.members,
    seed: options.seed,
    mode: options.mode ?? "auto",
  });
  try {
    // The faults draw from their own stream, so adding a fault kind leaves the traffic's choices alone.
    const random = new SeededRng(options.seed ^ 0x5eedfa17);
    const [traffic, faults] = await Promise.allSettled([
      runTraffic({
        endpoints: cluster.endpoints,
        seed: options.seed,
        durationMs: options.durationMs,
        scenario,
        ...(options.clients === undefined ? {} : { clients: options.clients }),
        ...(options.watchers === undefined ? {} : { watchers: options.watchers }),
      }),
      runFaultSchedule({
        cluster,
        kind: options.fault,
        random,
        durationMs: options.durationMs,
        ...(options.onFault === undefined ? {} : { onFault: options.onFault }),
      }),
    ]);
    if (faults.status === "rejected") throw faults.reason;
    if (traffic.status === "rejected") throw traffic.reason;
    await cluster.heal();
    const history: History = { ...traffic.value, faults: faults.value };
    const final = await finalChecks(cluster, history);
    const checked = checkHistory(
      history,
      options.checkTimeoutMs === undefined ? {} : { timeoutMs: options.checkTimeoutMs },
    );
    const report: CheckReport = {
      ok: checked.ok && final.length === 0,
      anomalies: [...checked.anomalies, ...final],
      stats: { ...checked.stats, faultActions: faults.value.length, finalAnomalies: final.length },
    };
    return {
      ok: report.ok,
      scenario,
      mode: cluster.mode,
      history,
      report,
      replay: replayCommand(options, cluster.mode),
    };
  } finally {
    await cluster.close();
  }
}
