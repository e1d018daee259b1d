import type { KeyValue } from "./key-value.js";
import type { RangeSelector } from "./keys.js";

/** Options of a watch. */
export interface WatchOptions extends RangeSelector {
  /**
   * First revision to deliver. Absent or 0n: changes after the watch is created. A revision that
   * was compacted fails the watcher with a `compacted` error carrying `compactRevision`.
   */
  startRevision?: bigint;
  /** Deliver each event's previous key-value (when not compacted). */
  prevKv?: boolean;
  /** Drop PUT events. */
  noPut?: boolean;
  /** Drop DELETE events. */
  noDelete?: boolean;
  /** Ask etcd for periodic progress notifications (reported as `progress` status events). */
  progressNotify?: boolean;
  /**
   * Let etcd split responses above its request limit; the client reassembles them. Default false:
   * the client accepts messages of any size, and etcd 3.4's splitting of a large catch-up batch is
   * slow (measured: a 20 000-event replay took ~2 s with it, ~0.1–0.4 s without). Use it when a
   * proxy in between limits message sizes.
   */
  fragment?: boolean;
  /**
   * Send `hasleader` so a member cut off from the leader ends the stream and the watch fails
   * over instead of hanging. Default true.
   */
  requireLeader?: boolean;
  /**
   * Events buffered for a consumer that does not keep up. At this many unread events the watch
   * is canceled on the server (other watchers on the shared stream keep flowing) and created
   * again from its next revision once half were read: nothing is lost, unless history is
   * compacted meanwhile (then it ends with `compacted`). Default 10 000.
   */
  maxBufferedEvents?: number;
  /** Aborting closes the watcher. */
  signal?: AbortSignal;
}

/** One change delivered by a watcher. `kv.modRevision` is the revision of the change. */
export interface WatchEvent {
  type: "put" | "delete";
  /** The key-value after the change (for a delete: the key and the delete's modRevision). */
  kv: KeyValue;
  /** The previous key-value, with `prevKv: true` and when etcd still had it. */
  prevKv: KeyValue | undefined;
}

/** Status events of a watcher (eventemitter3); the events themselves are iterated. */
export interface WatcherEvents {
  /** The watch was created on an endpoint for the first time. */
  connected: (info: { endpoint: string; revision: bigint }) => void;
  /** The stream carrying the watch broke; the client reconnects on its own. */
  disconnected: (cause: unknown) => void;
  /**
   * The watch was re-created after a disconnect or a pause for its slow consumer, from
   * `revision` (last delivered + 1).
   */
  resumed: (info: { endpoint: string; revision: bigint }) => void;
  /** etcd reported progress: every event up to `revision` was delivered; a resume starts after it. */
  progress: (revision: bigint) => void;
}
