/**
 * Keys inside the watch hub are latin1 strings: one char per byte, so JavaScript's string order
 * is the byte order etcd compares keys in, and a Map lookup needs no Buffer hashing.
 */
export type WatchKey = string;

/** Greater than every latin1 key: the end of a from-key range. */
export const AFTER_ALL_KEYS: WatchKey = "\u0100";

/**
 * The keys a watcher covers: one key (`end` undefined) or the half-open range [key, end);
 * a from-key watch ends at {@link AFTER_ALL_KEYS}.
 */
export interface KeyRange {
  readonly key: WatchKey;
  readonly end: WatchKey | undefined;
}

/** A Buffer's bytes as a {@link WatchKey}. */
export function toWatchKey(bytes: Uint8Array): WatchKey {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/**
 * etcd's reading of a WatchCreateRequest's key and range_end (v3rpc/watch.go): an empty key is
 * "\x00", the smallest key; an empty range_end watches one key; range_end "\x00" means every key
 * from `key` on. Returns undefined when key >= range_end (`mvcc: watcher range is empty`).
 */
export function watchRange(key: Uint8Array, rangeEnd: Uint8Array): KeyRange | undefined {
  const start = key.length === 0 ? "\x00" : toWatchKey(key);
  if (rangeEnd.length === 0) return { key: start, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { key: start, end: AFTER_ALL_KEYS };
  const end = toWatchKey(rangeEnd);
  return start < end ? { key: start, end } : undefined;
}

/** True when `key` lies in `range`. */
export function rangeContains(range: KeyRange, key: WatchKey): boolean {
  if (range.end === undefined) return key === range.key;
  return key >= range.key && key < range.end;
}
