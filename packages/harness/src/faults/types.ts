import type { FaultRecord } from "../history/types.js";

/**
 * The faults a scenario injects, one at a time on a seeded schedule:
 * - `none`: traffic only (a baseline);
 * - `kill`: kill -9 a member, restart it on its data dir;
 * - `pause`: freeze a member (SIGSTOP / docker pause), thaw it;
 * - `partition-leader`: cut the leader from every peer (both directions), heal;
 * - `partition-split`: cut a minority from the majority (both directions), heal;
 * - `one-way`: drop one member's peer traffic in one direction only (in or out), heal.
 */
export type FaultKind = "none" | "kill" | "pause" | "partition-leader" | "partition-split" | "one-way";

/** Every fault kind, in the order the CLI lists them. */
export const FAULT_KINDS: readonly FaultKind[] = [
  "none",
  "kill",
  "pause",
  "partition-leader",
  "partition-split",
  "one-way",
];

/** Faults that cut peer links, so they need a cluster with peers. */
export const NETWORK_FAULTS: ReadonlySet<FaultKind> = new Set([
  "partition-leader",
  "partition-split",
  "one-way",
]);

/** Where fault actions are logged (the history's `faults`). */
export type FaultLog = (record: Omit<FaultRecord, "atNs">) => void;

/** Parses a fault name, or throws listing the valid ones. */
export function parseFaultKind(name: string): FaultKind {
  const kind = FAULT_KINDS.find((k) => k === name);
  if (kind === undefined)
    throw new Error(`unknown fault ${JSON.stringify(name)}; one of ${FAULT_KINDS.join(", ")}`);
  return kind;
}
