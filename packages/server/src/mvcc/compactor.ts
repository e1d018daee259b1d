import { EtcdServerError } from "../errors.js";
import { holdsRevision } from "./key-history.js";
import { decodeKeyValueHead } from "./kv-codec.js";
import { decodeRevision, encodeRevision } from "./revision.js";
import type { MvccStore } from "./store.js";

/** Tuning of physical compaction. */
export interface CompactorOptions {
  /** Backend revisions examined per write transaction (etcd: 1000). */
  batchRevisions?: number;
  /** Index keys compacted per step. */
  batchKeys?: number;
  /** Lets the event loop run between steps; injected so the core owns no scheduling policy. */
  yieldToEventLoop: () => Promise<void>;
  /** Told when a job fails (a backend error); the job resumes on the next open. */
  onError?: (error: unknown, revision: number) => void;
}

interface Waiter {
  revision: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Physical compaction (etcd's scheduleCompaction), one job per logical compaction, in order.
 * A job first drops old revisions from the in-memory index, a chunk of keys at a time, then
 * deletes every backend revision <= the compaction revision that the index no longer holds,
 * batch by batch, and finally records the finished mark. Between steps the event loop runs, so
 * applies and reads interleave; they only add revisions above the compaction revision, which no
 * step touches. Each step first waits until no chunked read is in progress (see ReadGate).
 * An unfinished job (process stopped) resumes on the next open.
 */
export class Compactor {
  private readonly batchRevisions: number;
  private readonly batchKeys: number;
  private chain: Promise<void> = Promise.resolve();
  private finished: number;
  private stopped = false;
  private waiters: Waiter[] = [];

  constructor(
    private readonly store: MvccStore,
    private readonly options: CompactorOptions,
  ) {
    this.batchRevisions = options.batchRevisions ?? 1000;
    this.batchKeys = options.batchKeys ?? 2_000;
    this.finished = store.backend.finishedCompact;
  }

  /** Revision of the last finished physical compaction, -1 if none. */
  get finishedRevision(): number {
    return this.finished;
  }

  /** Queues the physical compaction of a logical compaction that was applied. */
  schedule(revision: number): void {
    this.chain = this.chain.then(() =>
      this.run(revision).catch((error: unknown) => {
        // Later jobs still run; a waiter for this one learns why it will not finish now.
        this.options.onError?.(error, revision);
        const failed = this.waiters.filter((waiter) => waiter.revision <= revision);
        this.waiters = this.waiters.filter((waiter) => waiter.revision > revision);
        for (const waiter of failed) waiter.reject(error instanceof Error ? error : new Error(String(error)));
      }),
    );
  }

  /** Resolves once a physical compaction at or above `revision` finished. */
  whenFinished(revision: number): Promise<void> {
    if (revision <= this.finished) return Promise.resolve();
    if (this.stopped) return Promise.reject(new EtcdServerError("stopped"));
    return new Promise((resolve, reject) => this.waiters.push({ revision, resolve, reject }));
  }

  /** Stops after the current step; pending waiters fail with `stopped`. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
    for (const waiter of this.waiters) waiter.reject(new EtcdServerError("stopped"));
    this.waiters = [];
  }

  private async run(revision: number): Promise<void> {
    let key: string | undefined;
    do {
      while (!this.store.readers.isIdle) await this.store.readers.idle();
      if (this.stopped) return;
      key = this.store.index.compactChunk(revision, key, this.batchKeys);
      await this.options.yieldToEventLoop();
    } while (key !== undefined);
    let from = encodeRevision(0, 0);
    for (;;) {
      while (!this.store.readers.isIdle) await this.store.readers.idle();
      if (this.stopped) return;
      const next = this.deleteBatch(from, revision);
      if (next === undefined) break;
      from = next;
      await this.options.yieldToEventLoop();
    }
    this.finished = revision;
    const ready = this.waiters.filter((waiter) => waiter.revision <= revision);
    this.waiters = this.waiters.filter((waiter) => waiter.revision > revision);
    for (const waiter of ready) waiter.resolve();
  }

  /** Deletes one batch; returns where the next batch starts, or undefined after the last one. */
  private deleteBatch(from: Buffer, revision: number): Buffer | undefined {
    const { backend, index } = this.store;
    const batch = [...backend.scan(from, revision, this.batchRevisions)];
    const doomed = batch.filter(({ key, value }) => {
      const rev = decodeRevision(key);
      const history = index.history(decodeKeyValueHead(value).key.toString("latin1"));
      return history === undefined || !holdsRevision(history, rev.main, rev.sub);
    });
    const last = batch.length < this.batchRevisions;
    for (const { key } of doomed) backend.remove(key);
    if (last) backend.setFinishedCompact(revision);
    const tail = batch[batch.length - 1];
    if (last || tail === undefined) return undefined;
    const rev = decodeRevision(tail.key);
    return encodeRevision(rev.main, rev.sub + 1);
  }
}
