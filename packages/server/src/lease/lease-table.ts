import { mvccpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";
import type { Backend, RestoreVisitor } from "../mvcc/index.js";

/** etcd's MaxLeaseTTL: a grant above it fails with `too large lease TTL`. */
const MAX_LEASE_TTL_SECONDS = 9_000_000_000n;

/** A granted lease as apply knows it: its TTL and the keys attached to it. */
export interface LeaseRecord {
  readonly id: bigint;
  /** Granted TTL in seconds, already raised to the minimum. */
  readonly ttlSeconds: number;
  /** Attached keys (latin1 strings, as the key index spells them). */
  readonly keys: ReadonlySet<string>;
}

/** The table's own view of a lease, whose key set it changes. */
interface Lease extends LeaseRecord {
  readonly keys: Set<string>;
}

/** What a batch did to the lease table, for the lessor (which tracks expiry outside apply). */
export type LeaseChange = { type: "grant"; id: bigint; ttlSeconds: number } | { type: "revoke"; id: bigint };

/**
 * The deterministic lease state of the state machine (etcd's leaseMap and itemMap): which
 * leases exist with their granted TTL, and which keys are attached to which lease. Grants and
 * revokes are written to the backend's `lease` database by the caller's write transaction, so
 * the table on disk always agrees with the keys in the same commit. No clock here: expiry is
 * the lessor's business.
 */
export class LeaseTable {
  private readonly leases = new Map<bigint, Lease>();
  private readonly keyLease = new Map<string, bigint>();

  /** Loads the granted leases from the backend; attachments come from {@link restoreVisitor}. */
  static load(backend: Backend): LeaseTable {
    const table = new LeaseTable();
    for (const { id, ttlSeconds } of backend.leases()) {
      table.leases.set(id, { id, ttlSeconds, keys: new Set() });
    }
    return table;
  }

  /**
   * The visitor for the MVCC restore scan: the last stored revision of each key names its live
   * lease, as etcd rebuilds attachments from the keys' KeyValue.lease on start. A key naming a
   * lease that is not in the table stays unattached (it cannot happen: revoke deletes the keys
   * in the transaction that removes the lease).
   */
  restoreVisitor(): RestoreVisitor {
    return (key, lease, tombstone) => this.attach(key, tombstone ? 0n : lease);
  }

  /** Whether a lease exists (a put naming an unknown lease fails). */
  has(id: bigint): boolean {
    return this.leases.has(id);
  }

  /** A lease's record, or undefined. */
  get(id: bigint): LeaseRecord | undefined {
    return this.leases.get(id);
  }

  /** Every lease, in no particular order. */
  all(): IterableIterator<LeaseRecord> {
    return this.leases.values();
  }

  /** How many leases exist. */
  get size(): number {
    return this.leases.size;
  }

  /**
   * etcd's lessor.Grant inside apply: id 0 is not a lease, a TTL over the maximum is refused
   * before an existing id, and a TTL below `minTtlSeconds` is raised to it. Persists the lease.
   */
  grant(backend: Backend, id: bigint, ttlSeconds: bigint, minTtlSeconds: number): LeaseRecord {
    if (id === 0n) throw new EtcdServerError("leaseNotFound");
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw new EtcdServerError("leaseTTLTooLarge");
    if (this.leases.has(id)) throw new EtcdServerError("leaseExist");
    const granted = ttlSeconds < BigInt(minTtlSeconds) ? minTtlSeconds : Number(ttlSeconds);
    const record: Lease = { id, ttlSeconds: granted, keys: new Set() };
    this.leases.set(id, record);
    backend.putLease({ id, ttlSeconds: granted });
    return record;
  }

  /** Removes a lease whose keys the caller has just deleted; removes its backend record too. */
  remove(backend: Backend, id: bigint): void {
    const record = this.leases.get(id);
    if (record === undefined) throw new EtcdServerError("leaseNotFound");
    if (record.keys.size > 0) throw new Error("lease: removing a lease that still has keys");
    this.leases.delete(id);
    backend.removeLease(id);
  }

  /** Follows one revision's events: a put attaches its key to the lease it names (or none), a delete detaches. */
  track(events: readonly mvccpb.Event[]): void {
    for (const { type, kv } of events) {
      if (kv === undefined) continue;
      const key = kv.key.toString("latin1");
      this.attach(key, type === mvccpb.Event_EventType.PUT ? kv.lease : 0n);
    }
  }

  /** Attaches `key` to `lease` (0n: to none), detaching it from the lease it had. */
  private attach(key: string, lease: bigint): void {
    const previous = this.keyLease.get(key);
    if (previous === lease) return;
    if (previous !== undefined) {
      this.leases.get(previous)?.keys.delete(key);
      this.keyLease.delete(key);
    }
    const record = lease === 0n ? undefined : this.leases.get(lease);
    if (record === undefined) return;
    record.keys.add(key);
    this.keyLease.set(key, lease);
  }
}
