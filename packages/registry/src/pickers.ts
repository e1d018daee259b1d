import { LeastConnectionPicker, type Pickable, type Picker, RoundRobinPicker } from "@keyway/client";
import { badRequest } from "./errors.js";
import type { Instance } from "./instance.js";

/** What a picker sees of one instance: the instance plus its live call statistics. */
export interface Candidate extends Pickable {
  readonly instance: Instance;
  /** Calls picked and not reported yet. */
  readonly inflight: number;
  /** Exponentially weighted moving average of reported latencies (ms); undefined before the first. */
  readonly latencyMs: number | undefined;
}

/** Names of the built-in instance pickers. */
export type PickerName = "round-robin" | "random" | "least-outstanding" | "weighted-round-robin" | "p2c-ewma";

/** A uniform random number in [0, 1); pass a seeded one for reproducible picks. */
export type RandomSource = () => number;

/** Picks uniformly at random. */
export class RandomPicker implements Picker<Candidate> {
  constructor(private readonly random: RandomSource) {}

  pick(candidates: readonly Candidate[]): Candidate | undefined {
    return candidates[Math.floor(this.random() * candidates.length)];
  }
}

/**
 * nginx's smooth weighted round-robin: each pick adds every candidate's weight to its running
 * score, takes the highest and subtracts the total from it. Shares follow the weights exactly
 * over a cycle and a heavy instance's picks are spread out instead of bunched. Weight-0
 * instances are never picked unless every weight is 0 (then all count as 1). A pick is one pass
 * over plain arrays aligned with the list; the scores move to a map by id only when another list
 * comes (a list passed again is taken as unchanged), so they survive membership changes.
 */
export class SmoothWeightedPicker implements Picker<Candidate> {
  private readonly scores = new Map<string, number>();
  private list: readonly Candidate[] | undefined;
  private weights: number[] = [];
  private current: number[] = [];
  private total = 0;

  pick(candidates: readonly Candidate[]): Candidate | undefined {
    if (candidates !== this.list) this.load(candidates);
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < candidates.length; i++) {
      const weight = this.weights[i] as number;
      if (weight === 0) continue;
      const score = (this.current[i] as number) + weight;
      this.current[i] = score;
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    if (best < 0) return undefined;
    this.current[best] = bestScore - this.total;
    return candidates[best];
  }

  /** Saves the scores of the previous list by id and loads the new list's. */
  private load(candidates: readonly Candidate[]): void {
    const previous = this.list ?? [];
    for (let i = 0; i < previous.length; i++)
      this.scores.set((previous[i] as Candidate).instance.id, this.current[i] as number);
    // Bound the state: forget instances that left the candidate list.
    if (this.scores.size > 2 * candidates.length + 16) {
      const present = new Set(candidates.map((c) => c.instance.id));
      for (const id of this.scores.keys()) if (!present.has(id)) this.scores.delete(id);
    }
    const allZero = candidates.every((c) => c.instance.weight === 0);
    this.weights = candidates.map((c) => (allZero ? 1 : c.instance.weight));
    this.total = this.weights.reduce((sum, weight) => sum + weight, 0);
    this.current = candidates.map((c) => this.scores.get(c.instance.id) ?? 0);
    this.list = candidates;
  }
}

/**
 * Power of two choices: draws two distinct candidates at random and takes the cheaper, where
 * cost = EWMA latency × (calls in flight + 1). An instance without a latency yet costs 0, so new
 * instances are tried at once. Load follows speed without herding onto a single fastest one.
 */
export class PowerOfTwoPicker implements Picker<Candidate> {
  constructor(private readonly random: RandomSource) {}

  pick(candidates: readonly Candidate[]): Candidate | undefined {
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++;
    const a = candidates[i] as Candidate;
    const b = candidates[j] as Candidate;
    return cost(b) < cost(a) ? b : a;
  }
}

function cost(candidate: Candidate): number {
  return (candidate.latencyMs ?? 0) * (candidate.inflight + 1);
}

/** The picker for a policy name (`least-outstanding` and `round-robin` are the client's own). */
export function createInstancePicker(
  name: PickerName,
  random: RandomSource = Math.random,
): Picker<Candidate> {
  switch (name) {
    case "round-robin":
      return new RoundRobinPicker<Candidate>();
    case "least-outstanding":
      return new LeastConnectionPicker<Candidate>();
    case "random":
      return new RandomPicker(random);
    case "weighted-round-robin":
      return new SmoothWeightedPicker();
    case "p2c-ewma":
      return new PowerOfTwoPicker(random);
    default:
      throw badRequest(`unknown picker ${JSON.stringify(name)}`);
  }
}
