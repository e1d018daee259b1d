import type { etcdserverpb } from "@keyway/api";
import type { RevisionEvents } from "../apply/index.js";
import type { PrevKvReader } from "./encoded-event.js";
import type { Watcher } from "./watcher.js";

/** The store as watch needs it; the StateMachine is one. */
export interface WatchHistory {
  readonly currentRevision: number;
  /** -1 when never compacted, as etcd reports it. */
  readonly compactRevision: number;
  /** Events of revisions >= start, at most `maxRevisions` revisions; throws `compacted` below the compaction. */
  eventsSince(startRevision: number, maxRevisions: number): RevisionEvents[];
  range(request: etcdserverpb.RangeRequest): etcdserverpb.RangeResponse;
}

/** Bounds and timings of the watch service. */
export interface WatchLimits {
  /** Most watchers on one stream; more are refused with a cancel_reason. */
  maxWatchersPerStream: number;
  /** Most watch streams on the member; more fail with RESOURCE_EXHAUSTED. */
  maxStreams: number;
  /** Bytes written to a stream and not yet taken by the transport before its watchers stop being fed live. */
  streamBufferBytes: number;
  /** How long a stream may stay backed up before it is cut off, in ms. */
  stalledStreamTimeoutMs: number;
  /** Responses of at least this many bytes are split for watchers that asked for `fragment`. */
  fragmentBytes: number;
  /** Revisions read from the backend per catch-up step (etcd: 1000). */
  catchUpRevisions: number;
  /** Period of progress notifications in ms (`--experimental-watch-progress-notify-interval`). */
  progressNotifyIntervalMs: number;
}

/** What a stream session needs from its hub. */
export interface HubContext {
  readonly history: WatchHistory;
  readonly limits: WatchLimits;
  /** The encoded header field of a response at `revision` (0 leaves the revision unset). */
  headerField(revision: number): Buffer;
  /** A response header at `revision`. */
  header(revision: number): etcdserverpb.ResponseHeader;
  readonly readPrev: PrevKvReader;
  /** Adds a watcher to the key index (it gets live events once synced). */
  register(watcher: Watcher): void;
  unregister(watcher: Watcher): void;
  /** Delivers the events applied so far and not yet fanned out, synchronously. */
  flush(): void;
  /** Forgets a closed session. */
  closed(session: object): void;
}
