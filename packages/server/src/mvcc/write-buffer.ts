import type { BackendEntry, BackendWrite, RecordTable } from "./kv-backend.js";

/**
 * Writes applied but not yet committed to the {@link KvBackend} (etcd's backend write buffer):
 * one layer of the view {@link Backend} serves reads from. Revision keys only grow (every put
 * is a new revision), so a layer's puts are an append-only sorted list that ranges can merge
 * after the committed entries without sorting.
 */
export class WriteBuffer {
  /** Put revision keys, ascending; one removed since stays listed and is skipped (not in `values`). */
  private readonly revKeys: Buffer[] = [];
  /** Latin1 revision key -> value, for the puts of this layer still present. */
  private readonly values = new Map<string, Buffer>();
  /** Latin1 revision keys this layer removes from older layers (compaction). */
  readonly removed = new Set<string>();
  /** Per record table: latin1 key -> record, or undefined for a removal. */
  readonly records: Record<RecordTable, Map<string, Buffer | undefined>> = {
    lease: new Map(),
    members: new Map(),
    members_removed: new Map(),
  };
  /** Latin1 meta key -> value. */
  readonly meta = new Map<string, Buffer>();
  /** Writes recorded, for the commit policy. */
  writes = 0;

  /** Records a put of a revision newer than every one stored. */
  put(revKey: Buffer, value: Buffer): void {
    const last = this.revKeys.at(-1);
    if (last !== undefined && Buffer.compare(last, revKey) >= 0)
      throw new Error("mvcc: write buffer got a revision that is not the newest");
    this.revKeys.push(revKey);
    this.values.set(revKey.toString("latin1"), value);
    this.writes++;
  }

  /** The oldest revision key this layer put (it may since be removed), or undefined. */
  get firstPut(): Buffer | undefined {
    return this.revKeys[0];
  }

  /** Records the removal of a revision (of this layer or an older one). */
  remove(revKey: Buffer): void {
    const latin1 = revKey.toString("latin1");
    if (!this.values.delete(latin1)) this.removed.add(latin1);
    this.writes++;
  }

  /** The value this layer gives a revision key: a Buffer, null if it removes it, undefined if silent. */
  lookup(revKey: Buffer): Buffer | null | undefined {
    const latin1 = revKey.toString("latin1");
    return this.values.get(latin1) ?? (this.removed.has(latin1) ? null : undefined);
  }

  /** Whether this layer removes a revision key (given as latin1). */
  removes(latin1: string): boolean {
    return this.removed.has(latin1);
  }

  /** This layer's puts with `from <= key < end`, ascending. */
  *puts(from: Buffer, end: Buffer): Generator<BackendEntry> {
    let lo = 0;
    let hi = this.revKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(this.revKeys[mid] as Buffer, from) < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.revKeys.length; i++) {
      const key = this.revKeys[i] as Buffer;
      if (Buffer.compare(key, end) >= 0) return;
      const value = this.values.get(key.toString("latin1"));
      if (value !== undefined) yield { key, value };
    }
  }

  /** The layer as one commit's writes. */
  toWrites(): BackendWrite[] {
    const writes: BackendWrite[] = [];
    const bytes = (latin1: string) => Buffer.from(latin1, "latin1");
    for (const latin1 of this.removed) writes.push({ table: "key", key: bytes(latin1), value: undefined });
    for (const [latin1, value] of this.values) writes.push({ table: "key", key: bytes(latin1), value });
    for (const [table, records] of Object.entries(this.records) as [
      RecordTable,
      Map<string, Buffer | undefined>,
    ][]) {
      for (const [latin1, value] of records) writes.push({ table, key: bytes(latin1), value });
    }
    for (const [latin1, value] of this.meta) writes.push({ table: "meta", key: bytes(latin1), value });
    return writes;
  }
}
