import { status } from "@grpc/grpc-js";
import { etcdserverpb, type mvccpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";
import type { HubContext, WatchHistory, WatchLimits } from "./context.js";
import { EncodedEvent, type PrevKvReader } from "./encoded-event.js";
import { encodeFields } from "./response-bytes.js";
import { type ResponseSink, WatchSession } from "./session.js";
import type { Watcher } from "./watcher.js";
import { WatcherIndex } from "./watcher-index.js";

/** Defaults of {@link WatchLimits}. */
export const WATCH_DEFAULTS: Omit<WatchLimits, "fragmentBytes"> = {
  maxWatchersPerStream: 10_000,
  maxStreams: 10_000,
  streamBufferBytes: 4 * 1024 * 1024,
  stalledStreamTimeoutMs: 60_000,
  catchUpRevisions: 1000,
  progressNotifyIntervalMs: 10 * 60 * 1000,
};

/** Options of {@link WatchHub}. */
export interface WatchHubOptions {
  history: WatchHistory;
  limits: WatchLimits;
  /** A response header with these ids and term at `revision`. */
  header(revision: number): etcdserverpb.ResponseHeader;
}

/**
 * Every watcher of the member and the live fan-out. Apply hands each revision's events to
 * {@link WatchHub.publish}, which only queues them; the fan-out runs on the next turn of the
 * event loop, so a write is acknowledged without waiting for watchers. A fan-out matches each
 * event once against the key index, encodes it once, and sends each watcher one response
 * holding all its events of the queued revisions (a revision is never split).
 */
export class WatchHub implements HubContext {
  readonly history: WatchHistory;
  readonly limits: WatchLimits;
  readonly readPrev: PrevKvReader;
  private readonly index = new WatcherIndex<Watcher>();
  private readonly sessions = new Set<WatchSession>();
  private queued: { revision: number; events: mvccpb.Event[] }[] = [];
  private flushScheduled = false;
  /** Every revision up to this one has been offered to the synced watchers (flushed). */
  private deliveredThrough: number;
  private readonly progressTimer: NodeJS.Timeout;
  private headerCache: { revision: number; field: Buffer } = { revision: -1, field: Buffer.alloc(0) };

  constructor(private readonly options: WatchHubOptions) {
    this.history = options.history;
    this.limits = options.limits;
    this.readPrev = (key, revision) => readPrevKv(options.history, key, revision);
    this.deliveredThrough = options.history.currentRevision;
    this.progressTimer = setInterval(() => this.progressTick(), options.limits.progressNotifyIntervalMs);
    this.progressTimer.unref();
  }

  /** Opens a session for a new Watch stream; throws when the member has `maxStreams` of them. */
  open(sink: ResponseSink): WatchSession {
    if (this.sessions.size >= this.limits.maxStreams) {
      throw new WatchLimitError(`keyway: too many watch streams (limit ${this.limits.maxStreams})`);
    }
    const session = new WatchSession(this, sink);
    this.sessions.add(session);
    return session;
  }

  /** Number of open streams. */
  get streamCount(): number {
    return this.sessions.size;
  }

  /** Number of watchers waiting for a catch-up from the backend (etcd's slow watchers). */
  get slowWatcherCount(): number {
    let count = 0;
    for (const session of this.sessions) count += session.unsynced.size;
    return count;
  }

  /** Number of watchers on all open streams. */
  get watcherCount(): number {
    let count = 0;
    for (const session of this.sessions) count += session.watchers.size;
    return count;
  }

  /** The StateMachine's event listener: queues one applied revision for the fan-out. */
  publish(revision: number, events: mvccpb.Event[]): void {
    this.queued.push({ revision, events });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Delivers every queued revision to the synced watchers it concerns. */
  flush(): void {
    this.flushScheduled = false;
    const revisions = this.queued;
    if (revisions.length === 0) return;
    this.queued = [];
    this.deliveredThrough = Math.max(
      this.deliveredThrough,
      (revisions.at(-1) as { revision: number }).revision,
    );
    const matched = new Map<Watcher, EncodedEvent[]>();
    for (const { revision, events } of revisions) {
      for (const event of events) {
        const encoded = new EncodedEvent(revision, event);
        this.index.forEachMatch(encoded.key, (watcher) => {
          if (revision < watcher.nextRevision || !watcher.accepts(encoded)) return;
          const list = matched.get(watcher);
          if (list === undefined) matched.set(watcher, [encoded]);
          else list.push(encoded);
        });
      }
    }
    if (matched.size === 0) return;
    const headerField = this.headerField((revisions.at(-1) as { revision: number }).revision);
    for (const [watcher, events] of matched) watcher.owner.deliver(watcher, events, headerField);
  }

  /**
   * The store was replaced by a snapshot restore (StateMachine.onRestore): what was applied before
   * is fanned out first, then every watcher re-syncs through the catch-up from the first revision
   * it has not been offered, in the restored history. One whose next revision was compacted away
   * is cancelled with compact_revision, as etcd does; the others get each later event once.
   */
  restored(): void {
    this.flush();
    for (const session of this.sessions) session.resync(this.deliveredThrough);
    this.deliveredThrough = this.history.currentRevision;
  }

  headerField(revision: number): Buffer {
    if (this.headerCache.revision !== revision) {
      this.headerCache = { revision, field: encodeFields({ header: this.header(revision) }) };
    }
    return this.headerCache.field;
  }

  header(revision: number): etcdserverpb.ResponseHeader {
    return this.options.header(revision);
  }

  register(watcher: Watcher): void {
    this.index.add(watcher);
  }

  unregister(watcher: Watcher): void {
    this.index.delete(watcher);
  }

  closed(session: object): void {
    this.sessions.delete(session as WatchSession);
  }

  private progressTick(): void {
    this.flush();
    for (const session of this.sessions) session.progressTick();
  }

  /** Stops the progress timer and ends every stream with etcd's `server stopped`. */
  close(): void {
    clearInterval(this.progressTimer);
    const { code, message } = new EtcdServerError("stopped");
    for (const session of [...this.sessions]) session.end(code, message);
  }
}

/** A watch limit was reached; the stream fails with RESOURCE_EXHAUSTED and this text. */
export class WatchLimitError extends Error {
  readonly code = status.RESOURCE_EXHAUSTED;
}

/** etcd's prev_kv: the key at `revision`, or nothing if it did not exist or is compacted. */
function readPrevKv(history: WatchHistory, key: Uint8Array, revision: number): mvccpb.KeyValue | undefined {
  if (revision <= 0 || revision < history.compactRevision) return undefined;
  try {
    const response = history.range(
      etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from(key), revision: BigInt(revision) }),
    );
    return response.kvs[0];
  } catch (error) {
    if (error instanceof EtcdServerError && error.reason === "compacted") return undefined;
    throw error;
  }
}
