import type { StateMachine } from "../apply/index.js";
import type { Wal, WalConfState } from "../wal/index.js";

/**
 * Applied entries between two checkpoints (etcd 3.6's snapshot-count). Bounds the WAL on disk and
 * the entries a restart replays.
 */
export const CHECKPOINT_EVERY_ENTRIES = 10_000;

/**
 * Lets the WAL forget what the backend already holds: commit the backend's write buffer (a
 * durable transaction that stores the applied index and term), record that log point in the WAL
 * as a snapshot marker, then delete the segments wholly below it. In that order, a crash at any
 * point leaves every entry either in the durable backend or still in the WAL.
 */
export class Checkpointer {
  private lastIndex: number;
  private running: Promise<void> | undefined;

  constructor(
    private readonly wal: Wal,
    private readonly stateMachine: StateMachine,
    /** The membership in force at a log index (it goes into the marker). */
    private readonly confStateAt: (index: number) => WalConfState,
    /** Told each checkpoint's index once the WAL released what it covers (Raft's log follows). */
    private readonly afterCheckpoint: (index: number) => void,
    private readonly onError: (error: Error) => void,
    private readonly everyEntries = CHECKPOINT_EVERY_ENTRIES,
  ) {
    this.lastIndex = stateMachine.appliedIndex;
  }

  /** Called after each applied batch; starts a checkpoint when enough entries have accumulated. */
  applied(): void {
    if (this.running !== undefined) return;
    if (this.stateMachine.appliedIndex - this.lastIndex < this.everyEntries) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no checkpoint is in progress. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async run(): Promise<void> {
    try {
      // The marker names the durable point and the term of its own entry, never a later one.
      const { index, term } = await this.stateMachine.commit();
      await this.wal.append({ snapshot: { index, term, confState: this.confStateAt(index) } });
      await this.wal.releaseBefore(index + 1);
      this.lastIndex = index;
      this.afterCheckpoint(index);
    } catch (error) {
      this.onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
