import type { StateMachine } from "../apply/index.js";

/** How often applied writes are committed to the backend at the latest (etcd's batch interval). */
export const COMMIT_INTERVAL_MS = 100;
/** Buffered backend writes that trigger a commit before the interval ends (etcd's batch limit). */
export const COMMIT_MAX_PENDING_WRITES = 10_000;

/** Options of {@link BackendCommitter}. */
export interface BackendCommitterOptions {
  /** Default {@link COMMIT_INTERVAL_MS}. */
  intervalMs?: number;
  /** Default {@link COMMIT_MAX_PENDING_WRITES}. */
  maxPendingWrites?: number;
  /** Called once if a commit fails: the member must stop (its backend can no longer catch up). */
  onError(error: Error): void;
  /** Runs `task` after `delayMs`; returns the cancel. Default setTimeout / setImmediate. */
  schedule?: (task: () => void, delayMs: number) => () => void;
}

const scheduleWithTimers = (task: () => void, delayMs: number): (() => void) => {
  if (delayMs <= 0) {
    const immediate = setImmediate(task);
    return () => clearImmediate(immediate);
  }
  const timer = setTimeout(task, delayMs);
  return () => clearTimeout(timer);
};

/**
 * Commits the state machine's write buffer in the background: within `intervalMs` of the first
 * write applied after a commit, or at once when `maxPendingWrites` have piled up. Writes are
 * acknowledged once the WAL holds them and they are applied to memory; the backend commit (a
 * durable transaction) never runs on a request's path.
 */
export class BackendCommitter {
  private cancel: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private failed = false;
  private closed = false;
  private readonly schedule: (task: () => void, delayMs: number) => () => void;

  constructor(
    private readonly stateMachine: StateMachine,
    private readonly options: BackendCommitterOptions,
  ) {
    this.schedule = options.schedule ?? scheduleWithTimers;
  }

  /** Called after each applied batch. */
  applied(): void {
    if (this.closed || this.failed || this.stateMachine.pendingWrites === 0) return;
    const urgent =
      this.stateMachine.pendingWrites >= (this.options.maxPendingWrites ?? COMMIT_MAX_PENDING_WRITES);
    if (this.cancel !== undefined && !urgent) return;
    this.cancel?.();
    this.cancel = this.schedule(
      () => this.run(),
      urgent ? 0 : (this.options.intervalMs ?? COMMIT_INTERVAL_MS),
    );
  }

  /** Resolves when no commit is in progress. */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Stops scheduling commits (the state machine's close commits the rest). */
  async close(): Promise<void> {
    this.closed = true;
    this.cancel?.();
    this.cancel = undefined;
    await this.running;
  }

  private run(): void {
    this.cancel = undefined;
    if (this.running !== undefined) {
      // One at a time: the next commit is scheduled when this one ends.
      return;
    }
    this.running = this.stateMachine
      .commit()
      .then(
        () => undefined,
        (error: unknown) => {
          this.failed = true;
          this.options.onError(error instanceof Error ? error : new Error(String(error)));
        },
      )
      .finally(() => {
        this.running = undefined;
        this.applied();
      });
  }
}
