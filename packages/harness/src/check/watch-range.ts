import type { WatchRecord } from "../history/types.js";

/** True when `key` is in the watch's range (etcd's range_end rules: "" one key, "\0" from key on). */
export function watchCovers(watch: Pick<WatchRecord, "key" | "rangeEnd">, key: string): boolean {
  if (watch.rangeEnd === "") return key === watch.key;
  if (watch.rangeEnd === "\u0000") return key >= watch.key;
  return key >= watch.key && key < watch.rangeEnd;
}

/** Short description of a watch for messages. */
export function describeWatch(watch: WatchRecord, index: number): string {
  const end = watch.rangeEnd === "" ? "" : watch.rangeEnd === "\u0000" ? "..∞" : `..${watch.rangeEnd}`;
  return `watch #${index} (client ${watch.client}, ${watch.key}${end} from revision ${watch.startRevision})`;
}
