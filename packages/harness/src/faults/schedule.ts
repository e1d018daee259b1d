import { setTimeout as sleep } from "node:timers/promises";
import type { Rng } from "@keyway/raft";
import type { Cluster } from "../cluster/types.js";
import type { FaultRecord } from "../history/types.js";
import { injectFault } from "./inject.js";
import type { FaultKind } from "./types.js";

/** Options of {@link runFaultSchedule}. All times in ms. */
export interface FaultScheduleOptions {
  readonly cluster: Cluster;
  readonly kind: FaultKind;
  /** Chooses victims, directions and the lengths of the quiet and faulty spans. */
  readonly random: Rng;
  /** Length of the traffic the faults overlap; the last {@link quietTailMs} stay fault-free. */
  readonly durationMs: number;
  /** Called with each action as it is taken (before the next one). */
  readonly onFault?: (record: FaultRecord) => void;
}

/** Spans of the schedule, in ms: a quiet span, then a fault held for its span, then heal. */
const QUIET_MIN_MS = 1_000;
const QUIET_SPREAD_MS = 1_500;
const FAULT_MIN_MS = 1_500;
const FAULT_SPREAD_MS = 2_000;

/** The end of a run stays fault-free this long (at most a quarter of it), so traffic sees the healed cluster. */
export function quietTailMs(durationMs: number): number {
  return Math.min(3_000, Math.floor(durationMs / 4));
}

/**
 * Injects faults of one kind, one at a time, for the run's duration: wait a seeded quiet span,
 * inject, hold for a seeded span, heal — until the quiet tail. Every action is recorded with its
 * monotonic time (the operations' clock). A fault is always healed, even when healing another
 * step throws. Resolves with the records once the cluster is healed.
 */
export async function runFaultSchedule(options: FaultScheduleOptions): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  const { cluster, kind, random } = options;
  const stopAt = Date.now() + options.durationMs - quietTailMs(options.durationMs);
  const log = (record: Omit<FaultRecord, "atNs">) => {
    const full = { atNs: process.hrtime.bigint(), ...record };
    records.push(full);
    options.onFault?.(full);
  };
  if (kind === "none") return records;
  for (;;) {
    await sleep(QUIET_MIN_MS + random.int(QUIET_SPREAD_MS));
    const faultMs = FAULT_MIN_MS + random.int(FAULT_SPREAD_MS);
    if (Date.now() + faultMs > stopAt) break;
    const heal = await injectFault(cluster, kind, random, log);
    try {
      await sleep(faultMs);
    } finally {
      await heal();
    }
  }
  return records;
}
