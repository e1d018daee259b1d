/**
 * Messages between the convergence driver and its child processes (Node IPC), and the clock
 * they share: epoch milliseconds with sub-millisecond resolution, comparable across processes on
 * one machine.
 */

/** From a child: set up and serving (`seen`: instances each discovery lists, for a discoverer). */
export interface Ready {
  type: "ready";
  seen?: number[];
}

/** From a discoverer: every one of its discoveries saw `id` added/removed; `at` is the last one. */
export interface Seen {
  type: "added" | "removed";
  id: string;
  at: number;
}

/** From the driver to a registrant: deregister everything and exit. */
export interface Close {
  type: "close";
}

/** From a registrant before it exits: how often its instances were written again (lease lost, …). */
export interface Churn {
  type: "churn";
  reRegistrations: number;
  /** Re-registrations by cause (`leaseLost`, `deleted`, `watchFailed`). */
  causes: Record<string, number>;
  errors: number;
}

/** Any message on the channel. */
export type Message = Ready | Seen | Close | Churn;

/** Now, in epoch ms with sub-ms resolution (performance.timeOrigin is the process's epoch start). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Sends `message` to the parent (a child started without IPC has no parent to tell). */
export function tell(message: Message): void {
  process.send?.(message);
}

/** Exits when the parent goes away, so no child outlives an interrupted run. */
export function exitWithParent(): void {
  process.on("disconnect", () => process.exit(0));
}
