import type { Clock } from "./clock.js";
import { ExpiryQueue } from "./expiry-queue.js";
import type { LeaseChange } from "./lease-table.js";

/** etcd's maxPendingRevokes: expired leases whose LeaseRevoke is proposed at once. */
const MAX_REVOKES_IN_FLIGHT = 16;

/** How long an expired lease whose revoke failed waits before the next try. */
const REVOKE_RETRY_MS = 500;

/** Options of {@link Lessor}. */
export interface LessorOptions {
  clock: Clock;
  /**
   * Proposes LeaseRevoke for an expired lease; resolves once applied (an already-revoked lease
   * counts as done), rejects if the proposal failed and should be retried.
   */
  revoke(id: bigint): Promise<void>;
  /** Revokes proposed at once; default 16 (etcd's maxPendingRevokes). */
  maxRevokesInFlight?: number;
  /** Told about a failed revoke (it is retried). */
  onRevokeError?(id: bigint, error: unknown): void;
}

interface Tracked {
  ttlMs: number;
  expiresAtMs: number;
  /** Ran out; its revoke is waiting or in flight, so keep-alives no longer renew it. */
  expired: boolean;
}

/**
 * The primary lessor (etcd's lessor.go, expiry side only): it keeps each granted lease's expiry
 * in an {@link ExpiryQueue} (a heap) on an injected clock, renews on keep-alive (in memory, not
 * a log entry), and when a lease runs out proposes LeaseRevoke, at most `maxRevokesInFlight`
 * at once. That proposal is the only way a lease ever ends by time, so apply stays
 * deterministic and a future Raft leader can own expiry. It learns of grants and revokes from
 * apply ({@link Lessor.apply}); what a lease holds (TTL, keys) stays in the state machine.
 */
export class Lessor {
  private readonly leases = new Map<bigint, Tracked>();
  private readonly queue = new ExpiryQueue();
  /** Expired leases waiting for a revoke slot, oldest first; bounded by the number of leases. */
  private readonly waiting: bigint[] = [];
  private inFlight = 0;
  private cancelTimer: (() => void) | undefined;
  private timerAtMs = Number.POSITIVE_INFINITY;
  private closed = false;
  /** Only the leader's lessor keeps time; a follower's forgets every expiry (etcd's Demote). */
  private primary = true;

  constructor(private readonly options: LessorOptions) {}

  /**
   * Takes over the leases that exist at start: each gets its full TTL plus `extendMs` from now,
   * as etcd's Promote does when a member becomes leader (remaining TTLs are not persisted).
   */
  promote(leases: Iterable<{ id: bigint; ttlSeconds: number }>, extendMs: number): void {
    this.primary = true;
    for (const { id, ttlSeconds } of leases) this.track(id, ttlSeconds, extendMs);
    this.schedule();
  }

  /**
   * The member lost leadership: forget every expiry and propose no revokes (the new leader
   * gives each lease its full TTL again). Revokes in flight finish or fail on their own.
   */
  demote(): void {
    this.primary = false;
    this.leases.clear();
    this.queue.clear();
    this.waiting.length = 0;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAtMs = Number.POSITIVE_INFINITY;
  }

  /** Whether this lessor keeps time (the member leads). */
  get isPrimary(): boolean {
    return this.primary;
  }

  /** Follows apply: a grant starts its lease's clock, a revoke forgets the lease. */
  apply(changes: readonly LeaseChange[]): void {
    if (!this.primary) return;
    for (const change of changes) {
      if (change.type === "grant") this.track(change.id, change.ttlSeconds, 0);
      else {
        this.leases.delete(change.id);
        this.queue.delete(change.id);
      }
    }
    this.schedule();
  }

  /**
   * etcd's Renew for a keep-alive: restarts the lease's TTL and returns it in seconds; 0 for a
   * lease that is unknown, or expired and waiting to be revoked (what etcd's keep-alive answers).
   */
  renew(id: bigint): number {
    const lease = this.leases.get(id);
    if (lease === undefined || lease.expired) return 0;
    const now = this.options.clock.now();
    if (now >= lease.expiresAtMs) {
      this.expire(id, lease);
      this.pump();
      return 0;
    }
    lease.expiresAtMs = now + lease.ttlMs;
    this.queue.set(id, lease.expiresAtMs);
    // The armed timer may now fire early; it re-arms for the new head then.
    return lease.ttlMs / 1000;
  }

  /** Whole seconds left (truncated, never below 0), or undefined for an unknown lease. */
  remainingSeconds(id: bigint): number | undefined {
    const lease = this.leases.get(id);
    if (lease === undefined) return undefined;
    return Math.max(0, Math.trunc((lease.expiresAtMs - this.options.clock.now()) / 1000));
  }

  /** Lease ids, soonest expiry first (as etcd's Leases sorts them). */
  list(): bigint[] {
    return [...this.leases.entries()]
      .sort(([a, x], [b, y]) => x.expiresAtMs - y.expiresAtMs || (a < b ? -1 : a > b ? 1 : 0))
      .map(([id]) => id);
  }

  /** Stops the timer and proposes no more revokes. */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private track(id: bigint, ttlSeconds: number, extendMs: number): void {
    const ttlMs = ttlSeconds * 1000;
    const expiresAtMs = this.options.clock.now() + ttlMs + extendMs;
    this.leases.set(id, { ttlMs, expiresAtMs, expired: false });
    this.queue.set(id, expiresAtMs);
  }

  /** Arms the one timer for the earliest expiry, unless it is armed for that time or earlier. */
  private schedule(): void {
    if (this.closed) return;
    const head = this.queue.peek();
    if (head === undefined || head.atMs >= this.timerAtMs) return;
    this.cancelTimer?.();
    this.timerAtMs = head.atMs;
    this.cancelTimer = this.options.clock.setTimer(head.atMs - this.options.clock.now(), () => {
      this.cancelTimer = undefined;
      this.timerAtMs = Number.POSITIVE_INFINITY;
      this.expireDue();
    });
  }

  private expireDue(): void {
    if (this.closed) return;
    const now = this.options.clock.now();
    for (let due = this.queue.popDue(now); due !== undefined; due = this.queue.popDue(now)) {
      const lease = this.leases.get(due.id);
      if (lease !== undefined) this.expire(due.id, lease);
    }
    this.pump();
    this.schedule();
  }

  private expire(id: bigint, lease: Tracked): void {
    lease.expired = true;
    this.queue.delete(id);
    this.waiting.push(id);
  }

  /** Proposes revokes for waiting leases while slots are free. */
  private pump(): void {
    const max = this.options.maxRevokesInFlight ?? MAX_REVOKES_IN_FLIGHT;
    while (!this.closed && this.inFlight < max && this.waiting.length > 0) {
      const id = this.waiting.shift() as bigint;
      if (!this.leases.has(id)) continue; // revoked by a client meanwhile
      this.inFlight++;
      this.options.revoke(id).then(
        () => this.revoked(),
        (error: unknown) => this.revoked(id, error),
      );
    }
  }

  /** A revoke finished; a failed one is retried after a pause (the lease stays expired). */
  private revoked(failedId?: bigint, error?: unknown): void {
    this.inFlight--;
    if (failedId !== undefined && this.leases.has(failedId)) {
      this.options.onRevokeError?.(failedId, error);
      this.queue.set(failedId, this.options.clock.now() + REVOKE_RETRY_MS);
      this.schedule();
    }
    this.pump();
  }
}
