import type { WatchRecord } from "../history/types.js";

/** True when `key` is in the watch's range (etcd's range_end rules: "" one key, "\0" from key on). */
export function watchCovers(watch: Pick<WatchRecord, "key" | "rangeEnd">, key: string): boolean {
  if (watch.rangeEnd === "") return key === watch.key;
  if (watch.rangeEnd === "\u0000") return key >= watch.key;
  return key >= watch.key && key < watch.rangeEnd;
}

/**
 * The revisions a watch vouches for: from its start (its start revision, or after its creation
 * header for a watch "from now") to the last revision it reported complete (its last event, or a
 * later progress notification). Undefined when the start is unknown.
 */
export function watchSpan(watch: WatchRecord): { start: bigint; bound: bigint } | undefined {
  const created = watch.responses.find((r) => r.created === true);
  const start = watch.startRevision > 0n ? watch.startRevision : created ? created.revision + 1n : undefined;
  if (start === undefined) return undefined;
  let bound = start - 1n;
  for (const r of watch.responses) {
    if (r.progressNotify === true && r.revision > bound) bound = r.revision;
    for (const { kv } of r.events) if (kv.modRevision > bound) bound = kv.modRevision;
  }
  return { start, bound };
}

/** Short description of a watch for messages. */
export function describeWatch(watch: WatchRecord, index: number): string {
  const end = watch.rangeEnd === "" ? "" : watch.rangeEnd === "\u0000" ? "..∞" : `..${watch.rangeEnd}`;
  return `watch #${index} (client ${watch.client}, ${watch.key}${end} from revision ${watch.startRevision})`;
}
