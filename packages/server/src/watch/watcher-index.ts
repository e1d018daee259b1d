import type { WatchKey } from "./key-range.js";
import { type HasRange, RangeIndex } from "./range-index.js";

/**
 * Every watcher of the member by the keys it covers: single-key watchers in a Map (the common
 * case: a lock waiter, a config key), range watchers in a {@link RangeIndex}.
 */
export class WatcherIndex<T extends HasRange> {
  private readonly byKey = new Map<WatchKey, Set<T>>();
  private readonly ranges = new RangeIndex<T>();

  add(entry: T): void {
    const { range } = entry;
    if (range.end !== undefined) {
      this.ranges.add(entry);
      return;
    }
    let set = this.byKey.get(range.key);
    if (set === undefined) {
      set = new Set();
      this.byKey.set(range.key, set);
    }
    set.add(entry);
  }

  delete(entry: T): void {
    const { range } = entry;
    if (range.end !== undefined) {
      this.ranges.delete(entry);
      return;
    }
    const set = this.byKey.get(range.key);
    if (set === undefined) return;
    set.delete(entry);
    if (set.size === 0) this.byKey.delete(range.key);
  }

  /** Calls `visit` for every watcher whose keys include `key`. */
  forEachMatch(key: WatchKey, visit: (entry: T) => void): void {
    const set = this.byKey.get(key);
    if (set !== undefined) for (const entry of set) visit(entry);
    if (this.ranges.size > 0) this.ranges.forEachContaining(key, visit);
  }
}
