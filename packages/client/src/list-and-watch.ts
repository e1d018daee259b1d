import { KeywayError } from "./errors.js";
import type { KeyValue } from "./key-value.js";
import type { Bytes, RangeSelector } from "./keys.js";
import type { Keyspace } from "./namespace.js";
import type { WatchEvent } from "./watch-options.js";

/** A full listing of the range at `revision`; the events that follow start after it. */
export interface Snapshot {
  type: "snapshot";
  kvs: KeyValue[];
  revision: bigint;
}

/** Options of {@link listAndWatch}. */
export interface ListAndWatchOptions extends RangeSelector {
  prevKv?: boolean;
  /** Aborting ends the iteration. */
  signal?: AbortSignal;
}

/**
 * The opt-in re-list helper: yields a snapshot of the range, then every change after it. When
 * the watch falls behind a compaction (the `compacted` error), it lists again and yields a new
 * snapshot instead of failing, so a cache built from it converges. Other errors end it.
 */
export async function* listAndWatch(
  space: Keyspace,
  key: Bytes,
  options: ListAndWatchOptions = {},
): AsyncIterable<Snapshot | WatchEvent> {
  const { signal, prevKv, ...selector } = options;
  for (;;) {
    const listing = await space.range(key, signal === undefined ? selector : { ...selector, signal });
    yield { type: "snapshot", kvs: listing.kvs, revision: listing.revision };
    const watcher = await space.watch(key, {
      ...selector,
      startRevision: listing.revision + 1n,
      ...(prevKv === undefined ? {} : { prevKv }),
      ...(signal === undefined ? {} : { signal }),
    });
    try {
      for await (const event of watcher) yield event;
      return;
    } catch (err) {
      if (!KeywayError.is(err, "compacted")) throw err;
    }
  }
}
