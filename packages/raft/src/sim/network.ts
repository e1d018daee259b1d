/**
 * The simulated network: messages wait in time buckets; faults drop, duplicate, delay (and so reorder)
 * them; partitions cut traffic between groups of members until they heal.
 */
import type { SeededRng } from "../rng.js";
import type { Message, NodeId } from "../types.js";

/** Fault rates of the network; all zero means a perfect (but still delayed) network. */
export interface NetworkFaults {
  /** Probability a message is lost. */
  drop: number;
  /** Probability a message is delivered twice. */
  duplicate: number;
  /** Probability a message takes a long detour (up to `maxDelay`), overtaken by later ones. */
  longDelay: number;
  /** Upper bound of a long delay, in time units. */
  maxDelay: number;
}

/** No faults at all: the liveness phase uses this. */
export const NO_FAULTS: NetworkFaults = { drop: 0, duplicate: 0, longDelay: 0, maxDelay: 0 };

/** Why a message was not delivered: the transport reports these to the sender like a real one would. */
export type DropReason = "lost" | "partitioned" | "down";

/** In-flight messages and the partition map. */
export class SimNetwork {
  private readonly buckets = new Map<number, Message[]>();
  /** Member -> partition group; members in different groups cannot talk. Empty when healed. */
  private groups = new Map<NodeId, number>();
  faults: NetworkFaults = NO_FAULTS;
  /** Messages lost and duplicated by faults (partitions not counted). */
  readonly counts = { dropped: 0, duplicated: 0 };

  constructor(private readonly rng: SeededRng) {}

  /** Queues a message sent at time `now` (lost or partitioned ones are reported through the return value). */
  send(m: Message, now: number): DropReason | undefined {
    if (this.partitioned(m.from, m.to)) return "partitioned";
    if (this.faults.drop > 0 && this.rng.chance(this.faults.drop)) {
      this.counts.dropped++;
      return "lost";
    }
    this.enqueue(m, now + this.delay());
    if (this.faults.duplicate > 0 && this.rng.chance(this.faults.duplicate)) {
      this.counts.duplicated++;
      this.enqueue(m, now + this.delay());
    }
    return undefined;
  }

  private delay(): number {
    if (this.faults.longDelay > 0 && this.rng.chance(this.faults.longDelay)) {
      return 1 + this.rng.int(this.faults.maxDelay);
    }
    return 1 + this.rng.int(3);
  }

  private enqueue(m: Message, at: number): void {
    const bucket = this.buckets.get(at);
    if (bucket === undefined) this.buckets.set(at, [m]);
    else bucket.push(m);
  }

  /** Removes and returns the messages due at `now`, shuffled (same-time messages race). */
  takeDue(now: number): Message[] {
    const due = this.buckets.get(now);
    if (due === undefined) return [];
    this.buckets.delete(now);
    for (let i = due.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      const t = due[i]!;
      due[i] = due[j]!;
      due[j] = t;
    }
    return due;
  }

  partitioned(a: NodeId, b: NodeId): boolean {
    if (this.groups.size === 0) return false;
    return (this.groups.get(a) ?? 0) !== (this.groups.get(b) ?? 0);
  }

  /** Splits members into groups (members not listed are in group 0). */
  partition(groups: Map<NodeId, number>): void {
    this.groups = groups;
  }

  heal(): void {
    this.groups = new Map();
  }

  describePartition(): string {
    const byGroup = new Map<number, NodeId[]>();
    for (const [id, g] of this.groups) byGroup.set(g, [...(byGroup.get(g) ?? []), id]);
    return [...byGroup.values()].map((ids) => `(${ids.join(",")})`).join(" ");
  }
}
