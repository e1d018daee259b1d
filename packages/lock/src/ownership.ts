import { type Comparison, compare, type Keyspace, KeywayError, type Session } from "@keyway/client";
import { LockError } from "./errors.js";

/** Most times the own-key watch is re-created after it failed (compaction, cancel) before giving up. */
const MAX_WATCH_RESTARTS = 100;

/**
 * Watches what an acquired (or queued) lock key depends on: the session's lease and the key itself.
 * When either goes, `signal` is aborted with a {@link LockError} — `sessionLost` when the lease
 * expired or was revoked, `lost` when the key was deleted — and `onLost` runs once. `stop()` ends the watching
 * first, so one's own unlock is not reported as a loss.
 */
export class Ownership {
  private readonly controller = new AbortController();
  private readonly watchAbort = new AbortController();
  private stopped = false;

  constructor(
    private readonly keyspace: Keyspace,
    session: Session,
    /** The lock key. */
    readonly key: Buffer,
    /** The key's create revision: the fencing token. */
    readonly createRevision: bigint,
    private readonly onLost: (error: LockError) => void,
  ) {
    const onSessionLost = () =>
      this.lose(
        "sessionLost",
        `session lease ${session.leaseId.toString(16)} was lost`,
        session.signal.reason,
      );
    if (session.signal.aborted) onSessionLost();
    else {
      session.signal.addEventListener("abort", onSessionLost, { once: true });
      this.watchAbort.signal.addEventListener("abort", () =>
        session.signal.removeEventListener("abort", onSessionLost),
      );
      void this.watchKey();
    }
  }

  /** Aborted, with the `lost` LockError as reason, once the key or its lease is gone. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The loss, once lost. */
  get lostError(): LockError | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as LockError) : undefined;
  }

  /** A txn compare that holds only while this exact key (same create revision) still exists. */
  isOwner(): Comparison {
    return compare.create(this.key, "==", this.createRevision);
  }

  /** Stops watching; later deletions of the key are not reported. */
  stop(): void {
    this.stopped = true;
    this.watchAbort.abort();
  }

  private lose(reason: "lost" | "sessionLost", message: string, cause?: unknown): void {
    if (this.stopped || this.controller.signal.aborted) return;
    const error = new LockError(reason, message, cause);
    this.stop();
    this.controller.abort(error);
    this.onLost(error);
  }

  /** Watches the key for its DELETE from just after its creation; re-checks it after watch failures. */
  private async watchKey(): Promise<void> {
    let from = this.createRevision + 1n;
    for (let attempt = 0; attempt <= MAX_WATCH_RESTARTS && !this.stopped; attempt++) {
      try {
        const watcher = await this.keyspace.watch(this.key, {
          startRevision: from,
          noPut: true,
          signal: this.watchAbort.signal,
        });
        for await (const event of watcher) {
          if (event.type === "delete")
            return this.lose("lost", `lock key ${this.key} was deleted by someone else`);
        }
        return; // closed by stop()
      } catch (err) {
        if (this.stopped) return;
        // A compacted or canceled watch: look at the key itself, then watch again from there.
        const checked = await this.check(err);
        if (checked === undefined) return;
        from = checked + 1n;
        // Back off while the cluster is unreachable; the session's own TTL bounds how long.
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * (attempt + 1))).unref());
      }
    }
    this.lose("lost", `lock key ${this.key} could not be watched`);
  }

  /** Returns the revision the key was seen alive at, or undefined after declaring the loss. */
  private async check(cause: unknown): Promise<bigint | undefined> {
    try {
      const result = await this.keyspace.range(this.key, { signal: this.watchAbort.signal });
      const kv = result.kvs[0];
      if (kv?.createRevision === this.createRevision) return result.revision;
      this.lose("lost", `lock key ${this.key} was deleted by someone else`, cause);
    } catch (err) {
      if (this.stopped) return undefined;
      if (KeywayError.is(err, "unavailable", "timeout")) return this.createRevision;
      this.lose("lost", `lock key ${this.key} could not be checked`, err);
    }
    return undefined;
  }
}
