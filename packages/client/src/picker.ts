/**
 * Pickers choose one item among candidates for each call. They are generic so the registry can
 * reuse them for service instances; the client uses them for etcd endpoints.
 */

/** An item a load-aware picker can weigh: its number of calls currently in flight. */
export interface Pickable {
  readonly inflight: number;
}

/** Chooses one candidate per call; returns undefined only for an empty list. */
export interface Picker<T> {
  /** The candidate for the next call. */
  pick(candidates: readonly T[]): T | undefined;
}

/** Cycles through the candidates in order, spreading calls evenly. */
export class RoundRobinPicker<T> implements Picker<T> {
  private next = 0;

  pick(candidates: readonly T[]): T | undefined {
    if (candidates.length === 0) return undefined;
    const index = this.next % candidates.length;
    this.next = (index + 1) % candidates.length;
    return candidates[index];
  }
}

/**
 * Sends each call to the candidate with the fewest calls in flight; ties are broken round-robin
 * so an idle set of endpoints still shares the load.
 */
export class LeastConnectionPicker<T extends Pickable> implements Picker<T> {
  private offset = 0;

  pick(candidates: readonly T[]): T | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    this.offset = (this.offset + 1) % n;
    let best: T | undefined;
    for (let i = 0; i < n; i++) {
      const candidate = candidates[(this.offset + i) % n] as T;
      if (best === undefined || candidate.inflight < best.inflight) best = candidate;
    }
    return best;
  }
}

/** Names of the built-in balancing policies. */
export type BalancerPolicy = "round-robin" | "least-connection";

/** A picker for a policy name. */
export function createPicker<T extends Pickable>(policy: BalancerPolicy): Picker<T> {
  switch (policy) {
    case "round-robin":
      return new RoundRobinPicker<T>();
    case "least-connection":
      return new LeastConnectionPicker<T>();
  }
}
