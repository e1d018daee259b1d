import { status } from "@grpc/grpc-js";
import { EtcdError, type EtcdErrorReason, etcdserverpb, mvccpb } from "@keyway/api";
import { EventEmitter } from "eventemitter3";
import { closedError, KeywayError } from "./errors.js";
import { Queue } from "./event-queue.js";
import type { KeyMapper } from "./key-mapper.js";
import { KeyValue } from "./key-value.js";
import type { WireRange } from "./keys.js";
import type { WatchEvent, WatcherEvents, WatchOptions } from "./watch-options.js";

/** What a watcher needs from the stream it is attached to. */
export interface WatchHost {
  /** Detaches the watcher (sends a cancel if etcd knows it). */
  detach(watcher: Watcher): void;
}

/** Places a watcher on a stream again (after a pause for its slow consumer). */
export type Reattach = (watcher: Watcher) => void;

/**
 * One watch: an AsyncIterable of {@link WatchEvent}s plus status events. It remembers the next
 * revision to deliver (the last queued event's mod_revision + 1, or a progress notification's
 * revision + 1; never a creation header revision), so after a reconnect or failover it resumes
 * with no event lost or repeated.
 *
 * Backpressure is per watcher: when its consumer leaves `maxBufferedEvents` events unread, the
 * watcher cancels itself on the server (the shared stream keeps flowing for the others) and is
 * created again from its next revision once the consumer has read half of them.
 */
export class Watcher
  extends EventEmitter<WatcherEvents>
  implements AsyncIterable<WatchEvent>, AsyncDisposable
{
  /** Next revision to ask for on (re)creation; 0n until the first creation fixes "now". */
  private next: bigint;
  private readonly queue = new Queue<WatchEvent>();
  private wake: (() => void) | undefined;
  private failure: KeywayError | undefined;
  private closed = false;
  private created = false;
  /** Canceled on the server until the consumer drains its queue. */
  private paused = false;
  private host: WatchHost | undefined;
  private readonly ready: Promise<void>;
  private settleReady!: (err?: KeywayError) => void;

  constructor(
    private readonly range: WireRange,
    private readonly options: WatchOptions,
    private readonly mapper: KeyMapper,
    private readonly reattach: Reattach,
  ) {
    super();
    this.next = options.startRevision ?? 0n;
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.ready.catch(() => undefined);
    options.signal?.addEventListener("abort", () => void this.close(), { once: true });
  }

  /** The revision the watch will resume from; 0n before its first creation. */
  get nextRevision(): bigint {
    return this.next;
  }

  /** True once closed or failed. */
  get isDone(): boolean {
    return this.closed || this.failure !== undefined;
  }

  /** True when the watch must run on a stream with require-leader metadata. */
  get requireLeader(): boolean {
    return this.options.requireLeader !== false;
  }

  /** Resolves once the watch is first created on a server; rejects if it fails before. */
  whenCreated(): Promise<void> {
    return this.ready;
  }

  /** @internal The create request, resuming from the next undelivered revision. */
  createRequest(): etcdserverpb.WatchRequest {
    const filters: etcdserverpb.WatchCreateRequest_FilterType[] = [];
    if (this.options.noPut === true) filters.push(etcdserverpb.WatchCreateRequest_FilterType.NOPUT);
    if (this.options.noDelete === true) filters.push(etcdserverpb.WatchCreateRequest_FilterType.NODELETE);
    const createRequest = etcdserverpb.WatchCreateRequest.fromPartial({
      ...this.range,
      startRevision: this.next,
      progressNotify: this.options.progressNotify === true,
      filters,
      prevKv: this.options.prevKv === true,
      fragment: this.options.fragment === true,
    });
    return { requestUnion: { $case: "createRequest", createRequest } };
  }

  /** @internal Attached to a stream (or detached with undefined). */
  setHost(host: WatchHost | undefined): void {
    this.host = host;
  }

  /** @internal etcd created the watch; `revision` is the header revision of the create response. */
  onCreated(endpoint: string, revision: bigint): void {
    // Only a watch "from now" adopts the header: events start right after it.
    if (this.next === 0n) this.next = revision + 1n;
    const info = { endpoint, revision: this.next };
    if (this.created) this.emit("resumed", info);
    else {
      this.created = true;
      this.emit("connected", info);
      this.settleReady();
    }
  }

  /** @internal A complete (reassembled) batch of events of this watch. */
  onEvents(events: readonly mvccpb.Event[]): void {
    if (this.isDone || events.length === 0) return;
    for (const event of events) {
      if (event.kv === undefined) continue;
      this.queue.push({
        type: event.type === mvccpb.Event_EventType.DELETE ? "delete" : "put",
        kv: new KeyValue(event.kv, this.mapper),
        prevKv: event.prevKv === undefined ? undefined : new KeyValue(event.prevKv, this.mapper),
      });
    }
    const last = events[events.length - 1]?.kv;
    if (last !== undefined) this.next = last.modRevision + 1n;
    if (this.queue.length >= this.limit && this.host !== undefined) {
      // etcd ends batches on revision boundaries, so resuming from `next` loses nothing.
      this.paused = true;
      const host = this.host;
      this.host = undefined;
      host.detach(this);
    }
    this.notify();
  }

  /**
   * @internal etcd reported that every event up to `revision` was sent to this watch: resume
   * after it, so an idle (e.g. filtered) watch does not fall behind a compaction.
   */
  onProgress(revision: bigint): void {
    if (this.isDone || this.next === 0n) return;
    if (revision >= this.next) this.next = revision + 1n;
    this.emit("progress", revision);
  }

  private get limit(): number {
    return this.options.maxBufferedEvents ?? 10_000;
  }

  /** @internal The stream carrying this watch broke. */
  onDisconnected(cause: unknown): void {
    this.host = undefined;
    if (!this.isDone) this.emit("disconnected", cause);
  }

  /** @internal Ends the watcher with an error (compaction, cancel by the server). */
  fail(error: KeywayError): void {
    if (this.isDone) return;
    this.failure = error;
    this.settleReady(error);
    this.host?.detach(this);
    this.host = undefined;
    this.notify();
  }

  private resumeIfDrained(): void {
    if (!this.paused || this.isDone || this.queue.length > this.limit / 2) return;
    this.paused = false;
    this.reattach(this);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Stops the watch; a pending iteration ends normally. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settleReady(closedError("watcher"));
    this.host?.detach(this);
    this.host = undefined;
    this.notify();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    try {
      for (;;) {
        const event = this.queue.shift();
        if (event !== undefined) {
          this.resumeIfDrained();
          yield event;
          continue;
        }
        if (this.failure !== undefined) throw this.failure;
        if (this.closed) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      await this.close();
    }
  }
}

/** The error of a watch canceled by etcd. */
export function watchCancelError(response: etcdserverpb.WatchResponse, startRevision: bigint): KeywayError {
  if (response.compactRevision !== 0n) {
    return new KeywayError({
      code: status.OUT_OF_RANGE,
      reason: "compacted",
      message: `watch from revision ${startRevision} failed: history before revision ${response.compactRevision} was compacted`,
      compactRevision: response.compactRevision,
    });
  }
  const authReason = AUTH_CANCEL_REASONS.get(response.cancelReason);
  if (authReason !== undefined) {
    const spec = EtcdError[authReason];
    return new KeywayError({ code: spec.code, reason: authReason, message: spec.message });
  }
  const reason = response.cancelReason === "" ? "watch canceled by the server" : response.cancelReason;
  return new KeywayError({ code: status.CANCELLED, reason: "watchCanceled", message: reason });
}

/** Go's names of the gRPC codes etcd puts in a watch's cancel_reason. */
const GO_CODE_NAMES: Partial<Record<number, string>> = {
  [status.UNAUTHENTICATED]: "Unauthenticated",
  [status.INVALID_ARGUMENT]: "InvalidArgument",
  [status.PERMISSION_DENIED]: "PermissionDenied",
};

/**
 * etcd refuses a watch create on auth grounds with `cancel_reason` set to the Go text of a gRPC
 * status error; these are matched exactly, like every other etcd error.
 */
const AUTH_CANCEL_REASONS = new Map<string, EtcdErrorReason>(
  (["invalidAuthToken", "authOldRevision", "userEmpty", "permissionDenied"] as const).map((reason) => [
    `rpc error: code = ${GO_CODE_NAMES[EtcdError[reason].code]} desc = ${EtcdError[reason].message}`,
    reason,
  ]),
);
