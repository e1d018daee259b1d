import type { KeyRange, WatchKey } from "./key-range.js";

/** Below this many ranges a linear scan beats maintaining the tree. */
const LINEAR_SCAN_MAX = 16;

/** An entry of a {@link RangeIndex}. */
export interface HasRange {
  readonly range: KeyRange;
}

/**
 * The range watchers of the hub, for stabbing queries ("which ranges contain this key").
 * Ranges are kept sorted by start key with a max-end segment tree over them, rebuilt lazily on
 * the first query after a change: a query costs O(log n + matches), and a burst of creates
 * costs one rebuild. etcd uses an interval tree for the same job.
 */
export class RangeIndex<T extends HasRange> {
  private readonly members = new Set<T>();
  private sorted: T[] = [];
  private starts: WatchKey[] = [];
  /** tree[node] = the greatest range end in that node's slice of `sorted`. */
  private maxEnd: WatchKey[] = [];
  private dirty = false;

  /** Number of ranges held. */
  get size(): number {
    return this.members.size;
  }

  add(entry: T): void {
    this.members.add(entry);
    this.dirty = true;
  }

  delete(entry: T): void {
    if (this.members.delete(entry)) this.dirty = true;
  }

  /** Calls `visit` for every range that contains `key`. */
  forEachContaining(key: WatchKey, visit: (entry: T) => void): void {
    if (this.members.size <= LINEAR_SCAN_MAX) {
      for (const entry of this.members) {
        const { range } = entry;
        if (key >= range.key && key < (range.end as WatchKey)) visit(entry);
      }
      return;
    }
    if (this.dirty) this.rebuild();
    const count = upperBound(this.starts, key);
    if (count > 0) this.visitNode(1, 0, this.sorted.length, count, key, visit);
  }

  private visitNode(
    node: number,
    lo: number,
    hi: number,
    count: number,
    key: WatchKey,
    visit: (entry: T) => void,
  ): void {
    if (lo >= count || (this.maxEnd[node] as WatchKey) <= key) return;
    if (hi - lo === 1) {
      visit(this.sorted[lo] as T);
      return;
    }
    const mid = (lo + hi) >>> 1;
    this.visitNode(2 * node, lo, mid, count, key, visit);
    this.visitNode(2 * node + 1, mid, hi, count, key, visit);
  }

  private rebuild(): void {
    this.sorted = [...this.members].sort((a, b) =>
      a.range.key < b.range.key ? -1 : a.range.key > b.range.key ? 1 : 0,
    );
    this.starts = this.sorted.map((entry) => entry.range.key);
    this.maxEnd = new Array<WatchKey>(4 * Math.max(1, this.sorted.length)).fill("");
    if (this.sorted.length > 0) this.build(1, 0, this.sorted.length);
    this.dirty = false;
  }

  private build(node: number, lo: number, hi: number): WatchKey {
    let end: WatchKey;
    if (hi - lo === 1) {
      end = (this.sorted[lo] as T).range.end as WatchKey;
    } else {
      const mid = (lo + hi) >>> 1;
      const left = this.build(2 * node, lo, mid);
      const right = this.build(2 * node + 1, mid, hi);
      // biome-ignore lint/complexity/useMathMinMax: keys are strings; Math.max would turn them into NaN.
      end = left > right ? left : right;
    }
    this.maxEnd[node] = end;
    return end;
  }
}

/** Number of entries of sorted `keys` that are <= `key`. */
function upperBound(keys: WatchKey[], key: WatchKey): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as WatchKey) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
