import type { History } from "../history/types.js";
import { type Anomaly, AnomalyList } from "./anomaly.js";
import { describeOperation, describeState } from "./describe.js";
import { prepare } from "./prepare.js";
import { search } from "./search.js";
import { checkWatchShape } from "./watch.js";
import { checkWatchAgainstLog, type RevisionLog, revisionLog } from "./watch-history.js";
import { failingWindow } from "./window.js";

export { checkAcknowledgedWrites } from "./acknowledged.js";
export type { Anomaly } from "./anomaly.js";

/** What the checkers found: `ok` when there is no anomaly; `stats` counts what was checked. */
export interface CheckReport {
  readonly ok: boolean;
  readonly anomalies: readonly Anomaly[];
  readonly stats: Record<string, number>;
}

/** Options of {@link checkHistory}. */
export interface CheckOptions {
  /** Budget of the linearizability search (and its shrinking), in ms; default 30 000. */
  readonly timeoutMs?: number;
}

/** Default budget of the linearizability search. */
export const DEFAULT_CHECK_TIMEOUT_MS = 30_000;

/**
 * Judges a history: linearizability of its operations against the model of etcd's KV (an
 * anomaly `nonLinearizable` with a shrunk failing window, or `timeout` when the search ran out of
 * budget: never a hang), then each watch by the shape rules and, when a linearization was found,
 * against the writes it linearized.
 */
export function checkHistory(history: History, options: CheckOptions = {}): CheckReport {
  const started = Date.now();
  const deadlineMs = started + (options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS);
  const anomalies = new AnomalyList();
  const prepared = prepare(history);
  const outcome = search(prepared.ops, prepared.init, deadlineMs);
  let log: RevisionLog | undefined;
  if (outcome.kind === "ok") log = revisionLog(outcome.order, prepared.records);
  else if (outcome.kind === "timeout") {
    anomalies.add(
      "timeout",
      `linearizability search ran out of its ${options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS} ms budget after ${outcome.explored} steps (longest valid prefix: ${outcome.deepest.length} operations)`,
    );
  } else {
    const window = failingWindow(prepared, outcome, deadlineMs);
    const origin = history.operations[0]?.invokeNs ?? 0n;
    const culprit = window.culprit ? describeOperation(window.culprit, origin) : "(unknown)";
    anomalies.add(
      "nonLinearizable",
      `no linearization places ${culprit}; from ${describeState(window.start)}, the ${window.operations.length} operations of the window${window.verified ? "" : " (unverified)"} cannot be ordered (shown with the ${window.context.length} earlier writes of revisions they claim)`,
      [...window.context, ...window.operations].sort((a, b) => (a.invokeNs < b.invokeNs ? -1 : 1)),
    );
  }
  const searchMs = Date.now() - started;
  let watchEvents = 0;
  history.watches.forEach((watch, index) => {
    for (const response of watch.responses) watchEvents += response.events.length;
    checkWatchShape(watch, index, anomalies);
    if (log !== undefined) checkWatchAgainstLog(watch, index, log, anomalies);
  });
  const stats: Record<string, number> = {
    operations: history.operations.length,
    searched: prepared.ops.length,
    definite: prepared.ops.filter((op) => op.definite).length,
    dropped: prepared.dropped,
    patched: prepared.patched,
    unobserved: prepared.unobserved,
    searchSteps: outcome.explored,
    searchMs,
    watches: history.watches.length,
    watchEvents,
    watchChecked: log === undefined ? 0 : 1,
    ...anomalies.stats(),
  };
  return { ok: anomalies.items.length === 0, anomalies: anomalies.items, stats };
}

/**
 * A report for people: the seed and scenario that replay the run, the counts, and each anomaly
 * with its window of operations (times in ms from the run's first invoke).
 */
export function formatReport(report: CheckReport, history: History): string {
  const origin = history.operations[0]?.invokeNs ?? 0n;
  const lines = [
    `scenario ${history.scenario}, seed ${history.seed}: ${report.ok ? "OK" : `${report.anomalies.length} anomalies`}`,
    `replay: seed=${history.seed} scenario=${history.scenario}`,
    `stats: ${Object.entries(report.stats)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
  ];
  for (const anomaly of report.anomalies) {
    lines.push(`- ${anomaly.kind}: ${anomaly.message}`);
    for (const record of anomaly.window) lines.push(`    ${describeOperation(record, origin)}`);
  }
  return lines.join("\n");
}
