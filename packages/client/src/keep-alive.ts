import { status } from "@grpc/grpc-js";
import { EventEmitter } from "eventemitter3";
import { KeywayError } from "./errors.js";

/** Status events of a lease keep-alive. */
export interface KeepAliveEvents {
  /** etcd renewed the lease; `ttlSeconds` is the TTL it granted again. */
  renewed: (ttlSeconds: bigint) => void;
  /** The lease is gone (expired, revoked, or not renewed within its TTL). Emitted once. */
  lost: (error: KeywayError) => void;
}

/** What a keep-alive needs from the shared keep-alive stream. */
export interface KeepAliveSender {
  /** Sends one renewal request for the lease. */
  send(id: bigint): void;
  /** Forgets a stopped keep-alive. */
  remove(handle: KeepAlive): void;
}

/**
 * Keeps one lease alive: sends a renewal every TTL/3 and declares the lease lost when etcd
 * answers TTL 0 (expired or revoked) or when no renewal succeeded within the TTL — so a
 * half-open connection cannot hide a dead lease for twice the TTL.
 */
export class KeepAlive extends EventEmitter<KeepAliveEvents> implements AsyncDisposable {
  private readonly controller = new AbortController();
  private sendTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private ttlMs: number;
  private stopped = false;
  private lostError: KeywayError | undefined;

  constructor(
    /** The lease id. */
    readonly id: bigint,
    ttlSeconds: bigint,
    private readonly sender: KeepAliveSender,
  ) {
    super();
    this.ttlMs = Number(ttlSeconds) * 1000;
    this.armDeadline();
    this.sendNow();
  }

  /** The lease's TTL in seconds, as etcd last granted it. */
  get ttlSeconds(): bigint {
    return BigInt(Math.round(this.ttlMs / 1000));
  }

  /** Aborted, with the `leaseLost` error as reason, when the lease is lost. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The loss error once lost. */
  get lost(): KeywayError | undefined {
    return this.lostError;
  }

  /** @internal A keep-alive response for this lease. */
  onResponse(ttlSeconds: bigint): void {
    if (this.stopped) return;
    if (ttlSeconds <= 0n) {
      this.lose(`lease ${this.id} expired or was revoked`);
      return;
    }
    this.ttlMs = Number(ttlSeconds) * 1000;
    this.armDeadline();
    this.schedule(this.ttlMs / 3);
    this.emit("renewed", ttlSeconds);
  }

  /** @internal The stream changed: renew at once on the new one. */
  resend(): void {
    if (!this.stopped) this.sendNow();
  }

  private sendNow(): void {
    this.sender.send(this.id);
    // Without an answer, try again well before the TTL runs out.
    this.schedule(Math.min(this.ttlMs / 3, 1_000));
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.sendTimer);
    this.sendTimer = setTimeout(() => this.sendNow(), Math.max(100, delayMs));
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(
      () => this.lose(`lease ${this.id} was not renewed within its TTL of ${this.ttlMs / 1000}s`),
      this.ttlMs,
    );
  }

  private lose(message: string): void {
    if (this.stopped) return;
    const error = new KeywayError({ code: status.NOT_FOUND, reason: "leaseLost", message });
    this.lostError = error;
    this.stop();
    this.controller.abort(error);
    this.emit("lost", error);
  }

  private stop(): void {
    this.stopped = true;
    clearTimeout(this.sendTimer);
    clearTimeout(this.deadlineTimer);
    this.sender.remove(this);
  }

  /** Stops renewing without revoking; the lease then expires after its TTL. */
  close(): void {
    if (!this.stopped) this.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
