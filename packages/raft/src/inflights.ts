/**
 * Flow control: a bounded window of in-flight append messages to one follower, each remembered by
 * the last index it carried. The leader stops sending when the window is full and frees slots as
 * acknowledgements arrive.
 */
import { assert } from "./util.js";

/** A ring buffer of the last indexes of unacknowledged MsgApps, at most `capacity` of them. */
export class Inflights {
  private readonly buffer: number[];
  private start = 0;
  /** Number of messages in flight. */
  count = 0;

  constructor(readonly capacity: number) {
    this.buffer = new Array<number>(capacity).fill(0);
  }

  /** Records a sent MsgApp whose last entry is `index`; indexes must be increasing. */
  add(index: number): void {
    assert(!this.full(), "cannot add into a full inflights window");
    this.buffer[(this.start + this.count) % this.capacity] = index;
    this.count++;
  }

  /** Frees every message whose last index is <= `index` (they are acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.buffer[this.start]! <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest message: a heartbeat response proves the follower is alive, so let one more through. */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.buffer[this.start]!);
  }

  full(): boolean {
    return this.count === this.capacity;
  }

  reset(): void {
    this.count = 0;
    this.start = 0;
  }
}
