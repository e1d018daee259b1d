import type { Picker } from "@keyway/client";
import { badRequest } from "./errors.js";
import type { Instance } from "./instance.js";
import type { Candidate } from "./pickers.js";
import type { ZonePreference } from "./zone.js";

/**
 * When an instance is skipped for failing, as Curator's `DownInstancePolicy`: after `failures`
 * consecutive failed calls it is down for `downForMs`, then probed with one call at a time until
 * a call succeeds (one more failure puts it down again).
 */
export interface DownPolicy {
  /** Consecutive failures that put an instance down; 1..1000, default 3. */
  failures?: number;
  /** How long a down instance is skipped, in ms; 0..3 600 000, default 30 000. */
  downForMs?: number;
}

/** What a caller reports about a picked call. */
export interface Outcome {
  ok: boolean;
  /** The call's latency; default the time since `pick()`. */
  latencyMs?: number;
}

/** One picked instance; report the call's outcome once with {@link Picked.report}. */
export interface Picked {
  readonly instance: Instance;
  /** Records the outcome and latency of the call (only the first report counts). */
  report(outcome: Outcome): void;
  /** Gives the pick back without an outcome (the call never started); ignored after a report. */
  release(): void;
}

/** Weight of a new latency sample in the moving average. */
const EWMA_ALPHA = 0.3;

class InstanceStats implements Candidate {
  inflight = 0;
  latencyMs: number | undefined;
  failures = 0;
  downUntil = 0;

  constructor(public instance: Instance) {}
}

/**
 * Call statistics per instance plus the down-instance policy, in front of a {@link Picker}: it
 * filters out down instances, lets the picker choose among the rest and tracks in-flight calls
 * and EWMA latency from the callers' reports.
 */
export class Balancer {
  private readonly stats = new Map<string, InstanceStats>();
  /** The list last picked from and its instances' statistics, reused while it is passed again. */
  private listed: readonly Instance[] | undefined;
  private listedStats: InstanceStats[] = [];
  /** Tracked instances that are down or on probation; while there is none, pick() filters nothing. */
  private readonly down = new Set<InstanceStats>();
  private readonly maxFailures: number;
  private readonly downForMs: number;

  constructor(
    private readonly picker: Picker<Candidate>,
    policy: DownPolicy = {},
    private readonly clock: () => number = Date.now,
    private readonly zone?: ZonePreference,
  ) {
    const { failures = 3, downForMs = 30_000 } = policy;
    if (!Number.isInteger(failures) || failures < 1 || failures > 1000)
      throw badRequest("downPolicy.failures must be an integer in 1..1000");
    if (!Number.isFinite(downForMs) || downForMs < 0 || downForMs > 3_600_000)
      throw badRequest("downPolicy.downForMs must be in 0..3600000");
    this.maxFailures = failures;
    this.downForMs = downForMs;
  }

  /**
   * Picks among `instances`, skipping down ones (and preferring the caller's zone when zone
   * affinity is set); undefined when none is eligible. A list is treated as immutable: passing the
   * same array again (discovery passes its cached view) reuses its statistics, so a pick costs
   * what the picker costs, not a lookup per instance.
   */
  pick(instances: readonly Instance[]): Picked | undefined {
    const now = this.clock();
    if (instances !== this.listed) {
      this.listedStats = instances.map((instance) => this.statsOf(instance));
      this.listed = instances;
    }
    const eligible =
      this.down.size === 0 ? this.listedStats : this.listedStats.filter((stats) => this.eligible(stats, now));
    const candidates = this.zone === undefined ? eligible : this.zone.narrow(eligible, instances);
    const chosen = this.picker.pick(candidates) as InstanceStats | undefined;
    if (chosen === undefined) return undefined;
    chosen.inflight++;
    let reported = false;
    return {
      instance: chosen.instance,
      report: (outcome) => {
        if (reported) return;
        reported = true;
        this.record(chosen, outcome, now);
      },
      release: () => {
        if (reported) return;
        reported = true;
        chosen.inflight = Math.max(0, chosen.inflight - 1);
      },
    };
  }

  /** Forgets the statistics of an instance that left the service. */
  forget(id: string): void {
    const stats = this.stats.get(id);
    if (stats !== undefined) this.down.delete(stats);
    this.stats.delete(id);
    this.listed = undefined;
  }

  private statsOf(instance: Instance): InstanceStats {
    let stats = this.stats.get(instance.id);
    if (stats === undefined) {
      stats = new InstanceStats(instance);
      this.stats.set(instance.id, stats);
    }
    stats.instance = instance;
    return stats;
  }

  private eligible(stats: InstanceStats, now: number): boolean {
    if (stats.failures < this.maxFailures) return true;
    // Down, or after its down time a probe: one call at a time until one succeeds.
    return now >= stats.downUntil && stats.inflight === 0;
  }

  private record(stats: InstanceStats, outcome: Outcome, pickedAt: number): void {
    stats.inflight = Math.max(0, stats.inflight - 1);
    const latency = outcome.latencyMs ?? this.clock() - pickedAt;
    if (Number.isFinite(latency) && latency >= 0)
      stats.latencyMs =
        stats.latencyMs === undefined ? latency : stats.latencyMs + EWMA_ALPHA * (latency - stats.latencyMs);
    if (outcome.ok) {
      stats.failures = 0;
      this.down.delete(stats);
      return;
    }
    stats.failures++;
    if (stats.failures < this.maxFailures) return;
    stats.downUntil = this.clock() + this.downForMs;
    // A late report for a forgotten instance must not slow every later pick.
    if (this.stats.get(stats.instance.id) === stats) this.down.add(stats);
  }
}
