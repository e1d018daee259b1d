import { status } from "@grpc/grpc-js";
import { etcdserverpb, WatchCancelReason } from "@keyway/api";
import { type CatchUpTarget, catchUpStep } from "./catch-up.js";
import type { HubContext } from "./context.js";
import type { EncodedEvent } from "./encoded-event.js";
import { watchRange } from "./key-range.js";
import { encodeResponse, eventResponses } from "./response-bytes.js";
import { Watcher, type WatcherOwner } from "./watcher.js";

/** Where a session's responses go: a gRPC stream, or a test's buffer. */
export interface ResponseSink {
  /** Writes one encoded WatchResponse; `done` runs once the transport has taken it. */
  write(bytes: Buffer, done: () => void): void;
  /** Ends the stream with an error status. */
  fail(code: status, message: string): void;
}

/** etcd's watch id for "no watcher" (created+canceled refusals, progress responses). */
const INVALID_WATCH_ID = -1n;

/** Control responses may exceed the buffer bound by this much before the stream is cut off. */
const CONTROL_SLACK_BYTES = 1024 * 1024;

/**
 * One Watch stream: its watchers, the order of its responses, its back-pressure and catch-up.
 * Responses are written in the order requests arrive (the Go client matches create responses
 * FIFO). When the transport holds more than `streamBufferBytes`, the stream is backed up: its
 * watchers stop taking live events and turn unsynced at the first one they miss; when the
 * transport drains, the catch-up reads what they missed from the backend at once.
 */
export class WatchSession implements WatcherOwner, CatchUpTarget {
  /** Watchers by id; a watcher ended by compaction stays until the client cancels it, as in etcd. */
  readonly watchers = new Map<bigint, Watcher>();
  /** Watchers that must be read up from the backend before they take live events. */
  readonly unsynced = new Set<Watcher>();
  private nextAutoId = 0n;
  private bufferedBytes = 0;
  private backedUp = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private catchUpScheduled = false;
  private progressPending = false;
  private isClosed = false;

  constructor(
    private readonly hub: HubContext,
    private readonly sink: ResponseSink,
  ) {}

  /** Handles one request of the stream. */
  handle(request: etcdserverpb.WatchRequest): void {
    if (this.isClosed) return;
    const union = request.requestUnion;
    if (union?.$case === "createRequest") this.create(union.createRequest);
    else if (union?.$case === "cancelRequest") this.cancel(union.cancelRequest.watchId);
    else if (union?.$case === "progressRequest") this.requestProgress();
  }

  private create(request: etcdserverpb.WatchCreateRequest): void {
    const current = this.hub.history.currentRevision;
    const range = watchRange(request.key, request.rangeEnd);
    if (range === undefined) {
      this.refuse(current, WatchCancelReason.emptyRange);
      return;
    }
    let id = request.watchId;
    if (id !== 0n && this.watchers.has(id)) {
      this.refuse(current, WatchCancelReason.duplicateWatchId);
      return;
    }
    const { maxWatchersPerStream } = this.hub.limits;
    if (this.watchers.size >= maxWatchersPerStream) {
      this.refuse(current, `keyway: too many watchers on one stream (limit ${maxWatchersPerStream})`);
      return;
    }
    if (id === 0n) {
      while (this.watchers.has(this.nextAutoId)) this.nextAutoId++;
      id = this.nextAutoId++;
    }
    const startRevision = request.startRevision === 0n ? current + 1 : Number(request.startRevision);
    const watcher = new Watcher({ ...request, id, range, startRevision }, this);
    this.watchers.set(id, watcher);
    this.sendControl({ header: this.hub.header(current), watchId: id, created: true });
    this.hub.register(watcher);
    if (startRevision > current) watcher.synced = true;
    else this.markUnsynced(watcher, startRevision);
  }

  /** etcd's refusal of a create: created and canceled at once, watch_id -1, with the reason. */
  private refuse(current: number, cancelReason: string): void {
    this.sendControl({
      header: this.hub.header(current),
      watchId: INVALID_WATCH_ID,
      created: true,
      canceled: true,
      cancelReason,
    });
  }

  private cancel(id: bigint): void {
    const watcher = this.watchers.get(id);
    if (watcher === undefined) return;
    this.remove(watcher);
    this.watchers.delete(id);
    this.sendControl({
      header: this.hub.header(this.hub.history.currentRevision),
      watchId: id,
      canceled: true,
    });
  }

  /**
   * WatchProgressRequest: one response with watch_id -1 at the current revision. It promises
   * that every event up to that revision was sent, so it waits until no watcher is behind.
   */
  private requestProgress(): void {
    this.hub.flush();
    if (this.unsynced.size > 0) {
      this.progressPending = true;
      return;
    }
    this.sendProgress(INVALID_WATCH_ID);
  }

  /** The periodic progress notification of the watchers that asked for it (progress_notify). */
  progressTick(): void {
    for (const watcher of this.watchers.values()) {
      if (!watcher.progressNotify || watcher.ended) continue;
      if (watcher.progressQuiet && watcher.synced) this.sendProgress(watcher.id);
      watcher.progressQuiet = true;
    }
  }

  private sendProgress(watchId: bigint): void {
    this.sendControl({ header: this.hub.header(this.hub.history.currentRevision), watchId });
  }

  /** Live events from the hub's fan-out. */
  deliver(watcher: Watcher, events: EncodedEvent[], headerField: Buffer): void {
    const first = events[0];
    if (first === undefined || !watcher.synced) return;
    if (this.backedUp) {
      this.markUnsynced(watcher, first.revision);
      return;
    }
    this.sendEvents(watcher, events, headerField);
  }

  /** Sends events to one watcher (fragmented if it asked) and moves its next revision past them. */
  sendEvents(watcher: Watcher, events: EncodedEvent[], headerField: Buffer): void {
    const framed = watcher.prevKv
      ? events.map((event) => event.withPrevKv(this.hub.readPrev))
      : events.map((event) => event.plain());
    const prefix = Buffer.concat([headerField, watcher.idField]);
    const fragmentBytes = watcher.fragment ? this.hub.limits.fragmentBytes : undefined;
    for (const bytes of eventResponses(prefix, framed, fragmentBytes)) this.write(bytes);
    watcher.nextRevision = (events.at(-1) as EncodedEvent).revision + 1;
    watcher.progressQuiet = false;
  }

  /** Sends the compaction cancel of a watcher that starts below the compaction revision. */
  endCompacted(watcher: Watcher, compactRevision: number): void {
    this.remove(watcher);
    watcher.ended = true;
    this.sendControl({
      header: this.hub.header(0),
      watchId: watcher.id,
      canceled: true,
      compactRevision: BigInt(compactRevision),
    });
  }

  /** True while the transport holds too much: catch-up waits for the drain. */
  get isBackedUp(): boolean {
    return this.backedUp;
  }

  /** Called by the catch-up when every unsynced watcher has joined the live fan-out. */
  caughtUp(): void {
    if (!this.progressPending) return;
    this.progressPending = false;
    this.sendProgress(INVALID_WATCH_ID);
  }

  /**
   * After a snapshot restore: every watcher is read up again from the backend. A synced watcher
   * has been offered every revision through `deliveredThrough`, so it resumes after it; an
   * unsynced one resumes where its catch-up stood.
   */
  resync(deliveredThrough: number): void {
    for (const watcher of this.watchers.values()) {
      if (watcher.ended) continue;
      if (watcher.synced) watcher.nextRevision = Math.max(watcher.nextRevision, deliveredThrough + 1);
      this.markUnsynced(watcher, watcher.nextRevision);
    }
  }

  private markUnsynced(watcher: Watcher, fromRevision: number): void {
    watcher.synced = false;
    watcher.nextRevision = Math.max(watcher.nextRevision, fromRevision);
    this.unsynced.add(watcher);
    this.scheduleCatchUp();
  }

  private scheduleCatchUp(): void {
    if (this.catchUpScheduled || this.backedUp || this.isClosed) return;
    this.catchUpScheduled = true;
    setImmediate(() => {
      this.catchUpScheduled = false;
      if (this.isClosed || this.backedUp || this.unsynced.size === 0) return;
      if (catchUpStep(this, this.hub)) this.scheduleCatchUp();
    });
  }

  private remove(watcher: Watcher): void {
    this.hub.unregister(watcher);
    this.unsynced.delete(watcher);
    watcher.synced = false;
  }

  private sendControl(fields: Parameters<typeof etcdserverpb.WatchResponse.fromPartial>[0]): void {
    this.write(encodeResponse(etcdserverpb.WatchResponse.fromPartial(fields)));
    const { streamBufferBytes } = this.hub.limits;
    if (this.backedUp && this.bufferedBytes > streamBufferBytes + CONTROL_SLACK_BYTES) {
      this.cutOff("its responses are not read");
    }
  }

  private write(bytes: Buffer): void {
    if (this.isClosed) return;
    this.bufferedBytes += bytes.length;
    this.sink.write(bytes, () => this.written(bytes.length));
    if (!this.backedUp && this.bufferedBytes > this.hub.limits.streamBufferBytes) {
      this.backedUp = true;
      this.stallTimer = setTimeout(
        () => this.cutOff(`it was not read for ${this.hub.limits.stalledStreamTimeoutMs} ms`),
        this.hub.limits.stalledStreamTimeoutMs,
      );
      this.stallTimer.unref();
    }
  }

  private written(bytes: number): void {
    this.bufferedBytes -= bytes;
    if (!this.backedUp || this.bufferedBytes > this.hub.limits.streamBufferBytes / 2) return;
    this.backedUp = false;
    clearTimeout(this.stallTimer);
    if (this.unsynced.size > 0) this.scheduleCatchUp();
  }

  private cutOff(why: string): void {
    this.end(status.RESOURCE_EXHAUSTED, `keyway: watch stream cut off: ${why}`);
  }

  /** Ends the stream with an error status and drops its watchers. */
  end(code: status, message: string): void {
    if (this.isClosed) return;
    this.sink.fail(code, message);
    this.close();
  }

  /** Drops every watcher; nothing more is written. Safe to call more than once. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.stallTimer);
    for (const watcher of this.watchers.values()) this.remove(watcher);
    this.watchers.clear();
    this.hub.closed(this);
  }
}
