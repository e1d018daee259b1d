import { etcdserverpb } from "@keyway/api";

/**
 * WatchResponses built from pre-encoded fields. Protobuf lets a message be the concatenation of
 * its fields in any order, so an event response is header + watch_id + the framed events: each
 * event is encoded once per batch (see EncodedEvent), not once per watcher.
 */

/** `fragment: true` as a field (7, varint 1). */
const FRAGMENT_FIELD = Buffer.from([0x38, 0x01]);

/** The bytes of one WatchResponse field set from `partial`, e.g. `{ watchId }`. */
export function encodeFields(partial: Parameters<typeof etcdserverpb.WatchResponse.fromPartial>[0]): Buffer {
  return Buffer.from(
    etcdserverpb.WatchResponse.encode(etcdserverpb.WatchResponse.fromPartial(partial)).finish(),
  );
}

/** A whole WatchResponse message. */
export function encodeResponse(response: etcdserverpb.WatchResponse): Buffer {
  return Buffer.from(etcdserverpb.WatchResponse.encode(response).finish());
}

/**
 * The responses that carry `events` to one watcher. Without `fragmentBytes` that is one
 * response. With it (the watcher asked for `fragment`), a response of `fragmentBytes` or more
 * with at least two events is split as etcd's sendFragments does: each part takes events while
 * it stays under the limit (but at least one), and every part except the last has fragment set.
 */
export function eventResponses(
  prefix: Buffer,
  events: readonly Buffer[],
  fragmentBytes: number | undefined,
): Buffer[] {
  const total = events.reduce((sum, event) => sum + event.length, prefix.length);
  if (fragmentBytes === undefined || total < fragmentBytes || events.length < 2) {
    return [Buffer.concat([prefix, ...events], total)];
  }
  const parts: Buffer[] = [];
  let index = 0;
  while (index < events.length) {
    const chunk: Buffer[] = [];
    let size = prefix.length + FRAGMENT_FIELD.length;
    while (index < events.length) {
      const event = events[index] as Buffer;
      if (chunk.length > 0 && size + event.length >= fragmentBytes) break;
      chunk.push(event);
      size += event.length;
      index++;
    }
    const last = index === events.length;
    parts.push(Buffer.concat(last ? [prefix, ...chunk] : [prefix, FRAGMENT_FIELD, ...chunk]));
  }
  return parts;
}
