import type { SeededRng } from "@keyway/raft";
import type { Operation, Outcome } from "../history/types.js";

/** Shares of each operation kind in the traffic, modelled on etcd's robustness traffic (sum 100). */
export const TRAFFIC_MIX = {
  get: 24,
  range: 12,
  put: 20,
  delete: 8,
  cas: 14,
  putWithLease: 8,
  leaseGrant: 7,
  leaseRevoke: 7,
} as const;

/** Most leases one client holds at once (bounds the lease set of the model). */
export const MAX_LEASES_PER_CLIENT = 4;

/**
 * What one logical client knows and chooses: keys of its keyspace, the mod revisions it last
 * saw (so its cas txns sometimes succeed), and the leases it holds. Values are unique per run
 * (`<client>.<n>`), so every write can be told apart in reads and watch events.
 */
export class Workload {
  private readonly lastModRevision = new Map<string, bigint>();
  private readonly leases: bigint[] = [];
  private written = 0;

  constructor(
    private readonly client: number,
    private readonly keys: readonly string[],
    private readonly prefix: string,
    private readonly prefixEnd: string,
    private readonly leaseTtlSeconds: number,
    private readonly rng: SeededRng,
  ) {}

  /** The next operation, drawn from the client's own seeded generator. */
  next(): Operation {
    let roll = this.rng.int(100);
    const key = pick(this.rng, this.keys);
    for (const [kind, share] of Object.entries(TRAFFIC_MIX)) {
      if (roll >= share) {
        roll -= share;
        continue;
      }
      return this.make(kind as keyof typeof TRAFFIC_MIX, key);
    }
    return { kind: "get", key };
  }

  private make(kind: keyof typeof TRAFFIC_MIX, key: string): Operation {
    switch (kind) {
      case "get":
        return { kind: "get", key };
      case "range":
        return {
          kind: "range",
          start: this.prefix,
          end: this.prefixEnd,
          ...(this.rng.int(4) === 0 ? { limit: 3 } : {}),
        };
      case "put":
        return { kind: "put", key, value: this.value() };
      case "delete":
        return { kind: "delete", key };
      case "cas":
        return {
          kind: "cas",
          key,
          expectModRevision: this.lastModRevision.get(key) ?? 0n,
          value: this.value(),
        };
      case "putWithLease": {
        const lease = this.leases.length > 0 ? pick(this.rng, this.leases) : undefined;
        return lease === undefined ? this.grant() : { kind: "put", key, value: this.value(), lease };
      }
      case "leaseGrant":
        return this.leases.length >= MAX_LEASES_PER_CLIENT ? { kind: "get", key } : this.grant();
      case "leaseRevoke": {
        const lease = this.leases.length > 0 ? pick(this.rng, this.leases) : undefined;
        return lease === undefined ? { kind: "get", key } : { kind: "leaseRevoke", lease };
      }
    }
  }

  private grant(): Operation {
    return { kind: "leaseGrant", ttlSeconds: this.leaseTtlSeconds };
  }

  private value(): string {
    return `${this.client}.${this.written++}`;
  }

  /** Learns from an answer: mod revisions read and written, leases granted and revoked. */
  observe(operation: Operation, outcome: Outcome): void {
    // A revoke ends the lease whatever its outcome: applied, maybe applied, or the lease was gone.
    if (operation.kind === "leaseRevoke") this.leases.splice(this.leases.indexOf(operation.lease), 1);
    if (outcome.status !== "ok") return;
    const result = outcome.result;
    if (result.kind === "leaseGrant") this.leases.push(result.lease);
    else if (result.kind === "get" && operation.kind === "get") {
      this.lastModRevision.set(operation.key, result.kv?.modRevision ?? 0n);
    } else if (result.kind === "range") {
      if (operation.kind === "range" && operation.limit === undefined) {
        for (const key of this.keys) this.lastModRevision.set(key, 0n);
      }
      for (const kv of result.kvs) this.lastModRevision.set(kv.key, kv.modRevision);
    } else if (result.kind === "put" && operation.kind === "put") {
      this.lastModRevision.set(operation.key, result.revision);
    } else if (result.kind === "cas" && operation.kind === "cas") {
      this.lastModRevision.set(
        operation.key,
        result.succeeded ? result.revision : (result.kv?.modRevision ?? 0n),
      );
    }
  }
}

/** One element of a non-empty array, drawn from `rng`. */
function pick<T>(rng: SeededRng, items: readonly T[]): T {
  const item = items[rng.int(items.length)];
  if (item === undefined) throw new Error("pick: empty array");
  return item;
}
