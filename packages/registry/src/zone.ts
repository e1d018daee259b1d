import { badRequest } from "./errors.js";
import type { Instance } from "./instance.js";
import type { Candidate } from "./pickers.js";

/**
 * Prefer the caller's zone: `pick()` chooses among the healthy instances of `zone` while there
 * are at least `minInstances` of them and they are at least `minFraction` of that zone's `up`
 * instances; otherwise it falls back to every zone (so a zone that lost most of its instances
 * does not concentrate its callers' load on the few left).
 */
export interface ZoneAffinity {
  /** The caller's zone. */
  zone: string;
  /** Fewest healthy local instances to stay local; 1..10 000, default 1. */
  minInstances?: number;
  /** Smallest healthy share of the zone's `up` instances to stay local; 0..1, default 0. */
  minFraction?: number;
}

/** A validated {@link ZoneAffinity}, applied to the candidates of each pick. */
export class ZonePreference {
  private readonly zone: string;
  private readonly minInstances: number;
  private readonly minFraction: number;

  constructor(options: ZoneAffinity) {
    if (
      typeof options !== "object" ||
      options === null ||
      typeof options.zone !== "string" ||
      options.zone === ""
    )
      throw badRequest("zoneAffinity needs a zone");
    const { minInstances = 1, minFraction = 0 } = options;
    if (!Number.isInteger(minInstances) || minInstances < 1 || minInstances > 10_000)
      throw badRequest("zoneAffinity.minInstances must be an integer in 1..10000");
    if (typeof minFraction !== "number" || !(minFraction >= 0 && minFraction <= 1))
      throw badRequest("zoneAffinity.minFraction must be in 0..1");
    this.zone = options.zone;
    this.minInstances = minInstances;
    this.minFraction = minFraction;
  }

  /**
   * The candidates to pick from: the healthy (`eligible`) ones of the local zone when there are
   * enough of them among the zone's `up` instances (`all`), else every eligible one.
   */
  narrow<T extends Candidate>(eligible: T[], all: readonly Instance[]): T[] {
    const local = eligible.filter((c) => c.instance.zone === this.zone);
    if (local.length < this.minInstances) return eligible;
    let known = 0;
    for (const instance of all) if (instance.zone === this.zone) known++;
    return local.length >= this.minFraction * known ? local : eligible;
  }
}
