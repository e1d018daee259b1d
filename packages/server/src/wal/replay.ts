/**
 * Folding decoded records into the recovered state, with Raft's log semantics: a snapshot marker
 * drops the entries it covers, and writing an index that exists truncates the log there.
 */
import type { WalRecord } from "./decode.js";
import type { HardState, WalEntry, WalReplay, WalSnapshot } from "./types.js";

/** Accumulates {@link WalReplay} from records in disk order. */
export class ReplayState {
  metadata: Uint8Array | undefined;
  hardState: HardState | undefined;
  snapshot: WalSnapshot | undefined;
  /** Contiguous: `entries[k].index === entries[0].index + k`. */
  readonly entries: WalEntry[] = [];

  /** Applies one record; returns why it cannot follow the previous ones, or undefined. */
  apply(record: WalRecord): string | undefined {
    switch (record.type) {
      case "metadata":
        this.metadata ??= record.metadata;
        return undefined;
      case "hardState":
        this.hardState = record.hardState;
        return undefined;
      case "commit":
        return undefined;
      case "snapshot":
        this.#applySnapshot(record.snapshot);
        return undefined;
      case "entry":
        return this.#applyEntry(record.entry);
    }
  }

  /** Checks the final state: the entries must start right after the snapshot they follow. */
  finish(): string | undefined {
    const first = this.entries[0]?.index;
    if (this.snapshot === undefined || first === undefined || first === this.snapshot.index + 1)
      return undefined;
    return `entries start at ${first} but snapshot covers only up to ${this.snapshot.index}`;
  }

  /** Index of the last entry, else of the snapshot, else 0. */
  lastIndex(): number {
    return this.entries.at(-1)?.index ?? this.snapshot?.index ?? 0;
  }

  /** The recovered state (entries are not copied). */
  toReplay(): WalReplay {
    return {
      metadata: this.metadata,
      hardState: this.hardState,
      snapshot: this.snapshot,
      entries: this.entries,
    };
  }

  #applySnapshot(snapshot: WalSnapshot): void {
    this.snapshot = snapshot;
    const first = this.entries[0]?.index;
    if (first !== undefined)
      this.entries.splice(0, Math.min(this.entries.length, snapshot.index - first + 1));
  }

  #applyEntry(entry: WalEntry): string | undefined {
    const snapshotIndex = this.snapshot?.index ?? 0;
    if (entry.index <= snapshotIndex) return `entry ${entry.index} is covered by snapshot ${snapshotIndex}`;
    const first = this.entries[0]?.index;
    // With no entries yet, any index after the snapshot may come first: the segments that held the
    // ones before it were released, and a later snapshot marker covers them (see finish()).
    if (first !== undefined) {
      const next = first + this.entries.length;
      if (entry.index > next) return `entry ${entry.index} leaves a gap after entry ${next - 1}`;
      // Raft truncation: this write replaces `entry.index` and everything after it.
      this.entries.length = Math.max(0, entry.index - first);
    }
    this.entries.push(entry);
    return undefined;
  }
}
