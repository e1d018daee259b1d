import { status } from "@grpc/grpc-js";
import { Backoff } from "./backoff.js";
import type { Endpoint } from "./endpoint.js";
import { badRequest, closedError, KeywayError } from "./errors.js";
import type { KeyMapper } from "./key-mapper.js";
import { type Bytes, nonNegative, selectRange } from "./keys.js";
import { checkOptionNames } from "./requests.js";
import type { Transport } from "./transport.js";
import type { WatchOptions } from "./watch-options.js";
import { WatchStream } from "./watch-stream.js";
import { Watcher } from "./watcher.js";

/** Stream errors that end the watchers instead of moving them to another stream. */
const FATAL_CODES: ReadonlySet<number> = new Set([
  status.UNIMPLEMENTED,
  status.PERMISSION_DENIED,
  status.INVALID_ARGUMENT,
  status.FAILED_PRECONDITION,
]);

const WATCH_OPTION_NAMES = [
  ...["prefix", "end", "fromKey", "startRevision", "prevKv", "noPut", "noDelete"],
  ...["progressNotify", "fragment", "requireLeader", "maxBufferedEvents", "signal"],
];

/**
 * Places watchers on one shared stream per endpoint (and per require-leader setting) and moves
 * them to another endpoint when a stream breaks, each resuming from its own next revision.
 */
export class WatchManager {
  private readonly streams = new Map<string, WatchStream>();
  private readonly backoff = new Backoff({ initialMs: 50, maxMs: 2_000 });
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly watchers = new Set<Watcher>();
  private closed = false;

  constructor(private readonly transport: Transport) {}

  /** Starts a watch and resolves once etcd created it. */
  async watch(key: Bytes, options: WatchOptions, mapper: KeyMapper): Promise<Watcher> {
    if (this.closed) throw closedError("client");
    checkOptionNames(options, WATCH_OPTION_NAMES, "watch");
    const limit = options.maxBufferedEvents;
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
      throw badRequest(`maxBufferedEvents must be a positive integer, got ${limit}`);
    }
    nonNegative(options.startRevision, "startRevision");
    const range = mapper.range(selectRange(key, options));
    const watcher = new Watcher(range, options, mapper, (w) => this.attach(w, undefined));
    for (const w of this.watchers) if (w.isDone) this.watchers.delete(w);
    this.watchers.add(watcher);
    const reset = () => this.backoff.reset();
    watcher.on("connected", reset);
    watcher.on("resumed", reset);
    this.attach(watcher, undefined);
    await watcher.whenCreated();
    return watcher;
  }

  private attach(watcher: Watcher, avoid: Endpoint | undefined): void {
    if (watcher.isDone) return;
    if (this.closed) {
      watcher.fail(closedError("client"));
      return;
    }
    const endpoint = this.transport.pool.pick(avoid === undefined ? undefined : new Set([avoid]));
    const key = `${endpoint.url}|${watcher.requireLeader}`;
    let stream = this.streams.get(key);
    if (stream === undefined || !stream.usable) {
      stream = new WatchStream(endpoint, watcher.requireLeader, this.transport, (s, ws, cause) =>
        this.onBroken(key, s, ws, cause),
      );
      this.streams.set(key, stream);
      void stream.open();
    }
    stream.add(watcher);
  }

  private onBroken(key: string, stream: WatchStream, watchers: Watcher[], cause: KeywayError): void {
    if (this.streams.get(key) === stream) this.streams.delete(key);
    if (cause.reason === "unavailable") stream.endpoint.markDown(cause);
    if (FATAL_CODES.has(cause.code) && !KeywayError.is(cause, "authOldRevision")) {
      // Retrying cannot help (e.g. a server without the Watch service): fail instead of looping.
      for (const w of watchers) w.fail(cause);
      return;
    }
    for (const w of watchers) w.onDisconnected(cause);
    if (watchers.length === 0) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      for (const w of watchers) this.attach(w, stream.endpoint);
    }, this.backoff.next());
    this.timers.add(timer);
  }

  /** Closes every watcher (their iterations end) and every stream. */
  close(): void {
    this.closed = true;
    for (const w of this.watchers) void w.close();
    this.watchers.clear();
    for (const timer of this.timers) clearTimeout(timer);
    for (const stream of this.streams.values()) stream.end();
    this.streams.clear();
  }
}
