/**
 * A FIFO queue with O(1) push and shift. `Array#shift` is O(n), which made draining a large
 * watch backlog quadratic.
 */
export class Queue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Items queued. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends an item. */
  push(item: T): void {
    this.items.push(item);
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    // Drop the consumed prefix once it dominates, keeping memory bounded by the backlog.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
