import type { StateMachine } from "../apply/index.js";
import type { Wal } from "../wal/index.js";

/**
 * Applied entries between two checkpoints (etcd 3.6's snapshot-count). Bounds the WAL on disk and
 * the entries a restart replays.
 */
export const CHECKPOINT_EVERY_ENTRIES = 10_000;

/**
 * Lets the WAL forget what the backend already holds: sync LMDB (opened without its own fsync)
 * up to the applied index, record that index in the WAL as a snapshot marker, then delete the
 * segments wholly below it. In that order, a crash at any point leaves every entry either in the
 * synced backend or still in the WAL.
 */
export class Checkpointer {
  private lastIndex: number;
  private running: Promise<void> | undefined;

  constructor(
    private readonly wal: Wal,
    private readonly stateMachine: StateMachine,
    private readonly term: number,
    private readonly onError: (error: Error) => void,
  ) {
    this.lastIndex = stateMachine.appliedIndex;
  }

  /** Called after each applied batch; starts a checkpoint when enough entries have accumulated. */
  applied(): void {
    if (this.running !== undefined) return;
    if (this.stateMachine.appliedIndex - this.lastIndex < CHECKPOINT_EVERY_ENTRIES) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no checkpoint is in progress. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async run(): Promise<void> {
    const index = this.stateMachine.appliedIndex;
    try {
      await this.stateMachine.sync();
      await this.wal.append({ snapshot: { index, term: this.term } });
      await this.wal.releaseBefore(index + 1);
      this.lastIndex = index;
    } catch (error) {
      this.onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
