import { etcdserverpb } from "@keyway/api";
import type { EncodedEvent } from "./encoded-event.js";
import type { KeyRange } from "./key-range.js";
import { encodeFields } from "./response-bytes.js";

/** What a watcher was created with, after etcd's normalisation (see watchRange). */
export interface WatcherSpec {
  id: bigint;
  range: KeyRange;
  /** First revision the watcher wants. */
  startRevision: number;
  filters: readonly etcdserverpb.WatchCreateRequest_FilterType[];
  prevKv: boolean;
  progressNotify: boolean;
  fragment: boolean;
}

/** The stream a watcher belongs to: the hub hands it the watcher's live events. */
export interface WatcherOwner {
  /** Live events for `watcher`, in revision order; `headerField` is the encoded response header. */
  deliver(watcher: Watcher, events: EncodedEvent[], headerField: Buffer): void;
}

/**
 * One watcher of a stream. `nextRevision` is the first revision it has not been given yet:
 * events below it are never sent again, which is what makes catch-up and live fan-out
 * exactly-once when both see the same revision. A synced watcher gets its events from the live
 * fan-out; an unsynced one is read back from the backend by its stream's catch-up.
 */
export class Watcher {
  readonly id: bigint;
  readonly range: KeyRange;
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
  readonly fragment: boolean;
  /** The encoded watch_id field, prefixed to each of its responses. */
  readonly idField: Buffer;
  nextRevision: number;
  synced = false;
  /** Set once the watcher was cancelled by compaction; it keeps its id until the client cancels. */
  ended = false;
  /** No events were sent since the last progress notification. */
  progressQuiet = true;
  private readonly dropPuts: boolean;
  private readonly dropDeletes: boolean;

  constructor(
    spec: WatcherSpec,
    /** The stream this watcher belongs to. */
    readonly owner: WatcherOwner,
  ) {
    this.id = spec.id;
    this.range = spec.range;
    this.prevKv = spec.prevKv;
    this.progressNotify = spec.progressNotify;
    this.fragment = spec.fragment;
    this.nextRevision = spec.startRevision;
    this.idField = encodeFields({ watchId: spec.id });
    this.dropPuts = spec.filters.includes(etcdserverpb.WatchCreateRequest_FilterType.NOPUT);
    this.dropDeletes = spec.filters.includes(etcdserverpb.WatchCreateRequest_FilterType.NODELETE);
  }

  /** True when the event passes the watcher's filters (the key is matched by the index). */
  accepts(event: EncodedEvent): boolean {
    return event.isPut ? !this.dropPuts : !this.dropDeletes;
  }
}
