import { etcdserverpb, mvccpb } from "@keyway/api";
import { toWatchKey, type WatchKey } from "./key-range.js";

/** Reads the previous version of an event's key (at mod_revision - 1); undefined if none or compacted. */
export type PrevKvReader = (key: Uint8Array, revision: number) => mvccpb.KeyValue | undefined;

/**
 * One event on its way to watchers, encoded at most twice (without and with prev_kv) however
 * many watchers receive it. `plain()` and `withPrevKv()` return the event as a framed
 * WatchResponse.events field (tag, length, body), ready to be concatenated into a response.
 */
export class EncodedEvent {
  /** The key as the hub compares it. */
  readonly key: WatchKey;
  private plainBytes: Buffer | undefined;
  private prevBytes: Buffer | undefined;

  constructor(
    /** The revision the event belongs to. */
    readonly revision: number,
    readonly event: mvccpb.Event,
  ) {
    this.key = toWatchKey(event.kv?.key ?? Buffer.alloc(0));
  }

  /** True for a PUT (NOPUT filters these), false for a DELETE (NODELETE). */
  get isPut(): boolean {
    return this.event.type === mvccpb.Event_EventType.PUT;
  }

  /** The framed event without prev_kv. */
  plain(): Buffer {
    this.plainBytes ??= frame(this.event);
    return this.plainBytes;
  }

  /**
   * The framed event with prev_kv, read once through `readPrev`. A create (a PUT whose version
   * is 1) has no previous version and is sent as is, as etcd does.
   */
  withPrevKv(readPrev: PrevKvReader): Buffer {
    if (this.prevBytes !== undefined) return this.prevBytes;
    const { kv } = this.event;
    const isCreate = this.isPut && kv !== undefined && kv.createRevision === kv.modRevision;
    const prevKv = isCreate || kv === undefined ? undefined : readPrev(kv.key, Number(kv.modRevision) - 1);
    this.prevBytes = prevKv === undefined ? this.plain() : frame({ ...this.event, prevKv });
    return this.prevBytes;
  }
}

/** An event as the bytes of field 11 (events) of a WatchResponse. */
function frame(event: mvccpb.Event): Buffer {
  const response = etcdserverpb.WatchResponse.fromPartial({});
  response.events.push(event);
  return Buffer.from(etcdserverpb.WatchResponse.encode(response).finish());
}
