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
  /** Sends one renewal request for the lease; false when no stream could take it. */
  send(id: bigint): boolean;
  /** Forgets a stopped keep-alive. */
  remove(handle: KeepAlive): void;
}

/** Renewals of one lease left unanswered on a stream before it stops adding more. */
const MAX_UNANSWERED = 4;
/** setTimeout's largest delay; longer waits are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Keeps one lease alive: sends a renewal every TTL/3 and declares the lease lost when etcd
 * answers TTL 0 (expired or revoked) or when its TTL has run out since the last renewal that
 * succeeded was *sent* — the server restarted the TTL no earlier than that, so the client never
 * believes it holds a lease the server has already expired, and a half-open connection cannot
 * hide a dead lease.
 */
export class KeepAlive extends EventEmitter<KeepAliveEvents> implements AsyncDisposable {
  private readonly controller = new AbortController();
  private sendTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private ttlMs: number;
  private validUntil: number;
  /** Send times of renewals not answered yet on the current stream, oldest first. */
  private unanswered: number[] = [];
  private stopped = false;
  private lostError: KeywayError | undefined;

  constructor(
    /** The lease id. */
    readonly id: bigint,
    ttlSeconds: bigint,
    /** Epoch ms until which the lease is known to live (its grant or last renewal was sent TTL before). */
    validUntilMs: number,
    private readonly sender: KeepAliveSender,
  ) {
    super();
    this.ttlMs = Number(ttlSeconds) * 1000;
    this.validUntil = validUntilMs;
  }

  /** @internal Starts renewing (once the stream tracks this handle). */
  begin(): void {
    this.armDeadline();
    if (!this.stopped) this.sendNow();
  }

  /** The lease's TTL in seconds, as etcd last granted it. */
  get ttlSeconds(): bigint {
    return BigInt(Math.round(this.ttlMs / 1000));
  }

  /**
   * Epoch ms until which the lease certainly lives on the server: the send time of the last
   * renewal etcd answered, plus the TTL. `lost` fires then unless a later renewal succeeds.
   */
  get validUntilMs(): number {
    return this.validUntil;
  }

  /** Aborted, with the `leaseLost` error as reason, when the lease is lost. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The loss error once lost. */
  get lost(): KeywayError | undefined {
    return this.lostError;
  }

  /** @internal A keep-alive response for this lease (etcd answers a stream's requests in order). */
  onResponse(ttlSeconds: bigint): void {
    if (this.stopped) return;
    const sentAt = this.unanswered.shift();
    if (ttlSeconds <= 0n) {
      this.lose(`lease ${this.id} expired or was revoked`);
      return;
    }
    this.ttlMs = Number(ttlSeconds) * 1000;
    // An answer to a renewal sent on an earlier stream (not tracked) proves nothing new.
    if (sentAt !== undefined && sentAt + this.ttlMs > this.validUntil) {
      this.validUntil = sentAt + this.ttlMs;
      this.armDeadline();
    }
    this.schedule(this.ttlMs / 3);
    this.emit("renewed", ttlSeconds);
  }

  /** @internal The stream changed: renewals sent on the old one will not be answered; renew now. */
  resend(): void {
    this.unanswered = [];
    if (!this.stopped) this.sendNow();
  }

  private sendNow(): void {
    // A stream that left several renewals unanswered is being replaced; more would not help.
    if (this.unanswered.length < MAX_UNANSWERED) {
      const sentAt = Date.now();
      if (this.sender.send(this.id)) this.unanswered.push(sentAt);
    }
    // Without an answer, try again well before the TTL runs out.
    this.schedule(Math.min(this.ttlMs / 3, 1_000));
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.sendTimer);
    this.sendTimer = setTimeout(() => this.sendNow(), Math.min(MAX_TIMER_MS, Math.max(100, delayMs)));
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const remainingMs = this.validUntil - Date.now();
    if (remainingMs <= 0) {
      this.lose(`lease ${this.id} was not renewed within its TTL of ${this.ttlMs / 1000}s`);
      return;
    }
    this.deadlineTimer = setTimeout(() => this.armDeadline(), Math.min(MAX_TIMER_MS, remainingMs));
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
