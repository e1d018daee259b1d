import type { History } from "../history/types.js";
import { watchCovers, watchSpan } from "./watch-range.js";

/**
 * True when the history's watches, together, vouch for every revision of `key` from the run's
 * start to the highest revision any answer reported: any write that took effect on the key in
 * the run was then delivered by some watch (unless the watch is unreliable, which the watch
 * validators judge on their own).
 */
export function watchedThroughout(history: History, key: string, upTo: bigint): boolean {
  const spans = history.watches
    .filter((w) => watchCovers(w, key))
    .flatMap((w) => watchSpan(w) ?? [])
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let next = (history.initial?.revision ?? 1n) + 1n;
  for (const { start, bound } of spans) {
    if (start > next) break;
    if (bound + 1n > next) next = bound + 1n;
  }
  return next > upTo;
}

/** The highest revision any successful answer reported. */
export function highestRevision(history: History): bigint {
  let highest = history.initial?.revision ?? 1n;
  for (const { outcome } of history.operations) {
    if (outcome.status === "ok" && outcome.result.revision > highest) highest = outcome.result.revision;
  }
  return highest;
}
