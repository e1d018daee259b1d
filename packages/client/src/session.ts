import { EventEmitter } from "eventemitter3";
import type { CallOptions } from "./call-options.js";
import { KeywayError } from "./errors.js";
import type { KeepAlive } from "./keep-alive.js";
import type { LeaseClient } from "./lease.js";

/** Options of a session. */
export interface SessionOptions extends CallOptions {
  /** Lease TTL in seconds. Default 60, as in Go's `concurrency.Session`. */
  ttlSeconds?: number;
  /** Adopt this existing lease instead of granting one (e.g. after a process restart). */
  leaseId?: bigint;
}

/** Status events of a session. */
export interface SessionEvents {
  /** etcd renewed the lease; `ttlSeconds` is the TTL it granted again. */
  renewed: (ttlSeconds: bigint) => void;
  /** The session's lease is gone; everything bound to it (locks, registrations) is gone too. */
  lost: (error: KeywayError) => void;
}

/**
 * A lease kept alive for as long as the session lives: the building block of locks, elections
 * and service registration. `close()` revokes the lease, so keys bound to it go at once.
 */
export class Session extends EventEmitter<SessionEvents> implements AsyncDisposable {
  private closed = false;

  private constructor(
    private readonly lease: LeaseClient,
    private readonly keepAlive: KeepAlive,
  ) {
    super();
    keepAlive.on("renewed", (ttlSeconds) => this.emit("renewed", ttlSeconds));
    keepAlive.once("lost", (error) => this.emit("lost", error));
  }

  /**
   * Grants (or adopts) a lease and starts keeping it alive. The lease counts as lost one TTL
   * after its grant was sent unless renewed. If the keep-alive cannot start, a lease granted
   * here is revoked before the error is thrown, so a failed create leaves nothing behind.
   */
  static async create(lease: LeaseClient, options: SessionOptions = {}): Promise<Session> {
    const { ttlSeconds = 60, leaseId, ...call } = options;
    if (leaseId !== undefined) {
      // An adopted lease's TTL is asked from etcd by keepAlive (which fails if the lease is gone).
      return new Session(lease, await lease.keepAlive(leaseId, call));
    }
    const sentAt = Date.now();
    const granted = await lease.grant(ttlSeconds, call);
    try {
      const keepAlive = await lease.keepAlive(granted.id, {
        ...call,
        ttlSeconds: granted.ttlSeconds,
        renewedAtMs: sentAt,
      });
      // A grant answered later than its TTL may already have expired on the server.
      if (keepAlive.lost !== undefined) throw keepAlive.lost;
      return new Session(lease, keepAlive);
    } catch (err) {
      // Not the caller's signal or deadline: they may be why the keep-alive failed. The TTL bounds it.
      await lease.revoke(granted.id, { timeoutMs: Number(granted.ttlSeconds) * 1000 }).catch(() => undefined);
      throw err;
    }
  }

  /** TTL of the session's lease in seconds, as etcd granted it. */
  get ttlSeconds(): bigint {
    return this.keepAlive.ttlSeconds;
  }

  /** The session's lease id. */
  get leaseId(): bigint {
    return this.keepAlive.id;
  }

  /** Aborted (reason: a `leaseLost` KeywayError) when the session's lease is lost. */
  get signal(): AbortSignal {
    return this.keepAlive.signal;
  }

  /** True once the lease was lost. */
  get isLost(): boolean {
    return this.keepAlive.lost !== undefined;
  }

  /** Stops the keep-alive without revoking: the lease expires after its TTL. */
  orphan(): void {
    this.closed = true;
    this.keepAlive.close();
  }

  /** Stops the keep-alive and revokes the lease (waiting at most the TTL). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.close();
    if (this.isLost) return;
    try {
      await this.lease.revoke(this.leaseId, { timeoutMs: Number(this.ttlSeconds) * 1000 });
    } catch (err) {
      if (!KeywayError.is(err, "leaseNotFound")) throw err;
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
