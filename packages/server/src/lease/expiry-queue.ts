/** One queued lease: its id and when it expires (ms on the lessor's clock). */
export interface Expiry {
  readonly id: bigint;
  readonly atMs: number;
}

interface Slot {
  id: bigint;
  atMs: number;
  /** Position in the heap array. */
  pos: number;
}

/**
 * A min-heap of lease expiries indexed by lease id (etcd's LeaseExpiredNotifier): renewing a
 * lease moves its one entry in O(log n) instead of adding another, so the queue never holds
 * more entries than there are leases, however many keep-alives arrive.
 */
export class ExpiryQueue {
  private readonly heap: Slot[] = [];
  private readonly slots = new Map<bigint, Slot>();

  /** Number of queued leases. */
  get size(): number {
    return this.heap.length;
  }

  /** Queues a lease or moves its expiry. */
  set(id: bigint, atMs: number): void {
    const slot = this.slots.get(id);
    if (slot === undefined) {
      const added: Slot = { id, atMs, pos: this.heap.length };
      this.heap.push(added);
      this.slots.set(id, added);
      this.up(added.pos);
      return;
    }
    const earlier = atMs < slot.atMs;
    slot.atMs = atMs;
    if (earlier) this.up(slot.pos);
    else this.down(slot.pos);
  }

  /** Removes a lease if queued. */
  delete(id: bigint): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.slots.delete(id);
    const last = this.heap.pop() as Slot;
    if (last === slot) return;
    this.heap[slot.pos] = last;
    last.pos = slot.pos;
    this.up(last.pos);
    this.down(last.pos);
  }

  /** Forgets every lease. */
  clear(): void {
    this.heap.length = 0;
    this.slots.clear();
  }

  /** The earliest expiry, if any. */
  peek(): Expiry | undefined {
    return this.heap[0];
  }

  /** Removes and returns the earliest expiry if it is at or before `nowMs`. */
  popDue(nowMs: number): Expiry | undefined {
    const head = this.heap[0];
    if (head === undefined || head.atMs > nowMs) return undefined;
    this.delete(head.id);
    return { id: head.id, atMs: head.atMs };
  }

  private up(pos: number): void {
    const slot = this.heap[pos] as Slot;
    while (pos > 0) {
      const parentPos = (pos - 1) >> 1;
      const parent = this.heap[parentPos] as Slot;
      if (parent.atMs <= slot.atMs) break;
      this.place(parent, pos);
      pos = parentPos;
    }
    this.place(slot, pos);
  }

  private down(pos: number): void {
    const slot = this.heap[pos] as Slot;
    const n = this.heap.length;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && (this.heap[right] as Slot).atMs < (this.heap[child] as Slot).atMs) child = right;
      const smaller = this.heap[child] as Slot;
      if (smaller.atMs >= slot.atMs) break;
      this.place(smaller, pos);
      pos = child;
    }
    this.place(slot, pos);
  }

  private place(slot: Slot, pos: number): void {
    this.heap[pos] = slot;
    slot.pos = pos;
  }
}
