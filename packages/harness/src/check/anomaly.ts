import type { OperationRecord } from "../history/types.js";

/**
 * One thing the checkers found wrong. `kind` names the broken rule (`nonLinearizable`,
 * `timeout`, `watchGap`, `lostWrite`, ...); `window` holds the operations that show it.
 */
export interface Anomaly {
  readonly kind: string;
  readonly message: string;
  readonly window: readonly OperationRecord[];
}

/** How many anomalies of one kind a report keeps (bounds reports of badly broken runs). */
export const MAX_ANOMALIES_PER_KIND = 20;

/** Collects anomalies, keeping at most {@link MAX_ANOMALIES_PER_KIND} per kind and counting the rest. */
export class AnomalyList {
  readonly items: Anomaly[] = [];
  private readonly counts = new Map<string, number>();

  /** Adds one anomaly (kept if its kind is still under the bound). */
  add(kind: string, message: string, window: readonly OperationRecord[] = []): void {
    const count = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, count);
    if (count <= MAX_ANOMALIES_PER_KIND) this.items.push({ kind, message, window });
  }

  /** Anomalies found per kind, including those not kept. */
  stats(): Record<string, number> {
    return Object.fromEntries([...this.counts].map(([kind, n]) => [`anomalies.${kind}`, n]));
  }
}
