/**
 * The tail of the log that the core holds in memory until the application reports it durable:
 * entries at index >= `offset`, and possibly an incoming snapshot.
 */
import type { RaftLogger } from "./logger.js";
import type { Entry, Snapshot } from "./types.js";
import { assert } from "./util.js";

/** Not-yet-persisted entries and snapshot. `entries[i]` has index `offset + i`. */
export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];

  constructor(
    public offset: number,
    private readonly logger: RaftLogger,
  ) {}

  /** The first index known only through the unstable snapshot. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      const meta = this.snapshot?.metadata;
      return meta !== undefined && meta.index === index ? meta.term : undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  /** Forgets entries up to `index` once persisted, if they were not replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot?.metadata.index === index) this.snapshot = undefined;
  }

  restore(snap: Snapshot): void {
    this.offset = snap.metadata.index + 1;
    this.entries = [];
    this.snapshot = snap;
  }

  /** Appends entries, first dropping any held entry at or after the first new index. */
  truncateAndAppend(entries: readonly Entry[]): void {
    const after = entries[0]!.index;
    if (after === this.offset + this.entries.length) {
      for (const e of entries) this.entries.push(e);
    } else if (after <= this.offset) {
      this.logger.info(`replace the unstable entries from index ${after}`);
      this.offset = after;
      this.entries = entries.slice();
    } else {
      this.logger.info(`truncate the unstable entries before index ${after}`);
      this.entries = this.entries.slice(0, after - this.offset).concat(entries);
    }
  }

  /** Held entries in [lo, hi); both must be within the held range. */
  slice(lo: number, hi: number): Entry[] {
    assert(
      lo >= this.offset && hi <= this.offset + this.entries.length,
      `unstable.slice[${lo},${hi}) out of bound [${this.offset},${this.offset + this.entries.length}]`,
    );
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
