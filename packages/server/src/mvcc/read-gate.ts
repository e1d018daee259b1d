/**
 * Reads that span several event-loop turns (a large Range or HashKV read in chunks) register
 * here; physical compaction waits for them before each of its steps, so the revisions such a
 * read already chose are never deleted under it. A read that finishes lets compaction go on.
 */
export class ReadGate {
  private active = 0;
  private waiters: (() => void)[] = [];

  /** Registers a read; call the returned function exactly once when it ends. */
  enter(): () => void {
    this.active++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.active--;
      if (this.active === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      }
    };
  }

  /** True when no registered read is in progress. */
  get isIdle(): boolean {
    return this.active === 0;
  }

  /**
   * Resolves when no registered read is in progress. Another read may start before the caller
   * resumes: check {@link isIdle} again in the same turn as the work it guards.
   */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
