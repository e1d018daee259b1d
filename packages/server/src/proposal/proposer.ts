import { encodeMessage, keywaypb } from "@keyway/api";
import type { ApplyOutcome, LogEntry, StateMachine } from "../apply/index.js";
import { EtcdServerError } from "../errors.js";
import type { Wal, WalEntry } from "../wal/index.js";

/** The request payload of one log entry (everything an InternalRequest carries but its id). */
export type Proposal = NonNullable<keywaypb.InternalRequest["request"]>;

interface Pending {
  entry: LogEntry;
  encoded: Uint8Array;
  resolve(outcome: ApplyOutcome): void;
  reject(error: Error): void;
}

/**
 * Proposals accepted but not yet applied before new ones are refused with `too many requests`:
 * etcd's bound on the gap between committed and applied entries, and what keeps a flood of
 * writes from queueing without limit in memory.
 */
export const MAX_IN_FLIGHT_PROPOSALS = 5_000;

/**
 * Encoded bytes of proposals accepted but not yet applied before new ones are refused with
 * `too many requests`: with 1.5 MiB requests the count bound alone would let 7 GiB queue up.
 */
export const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/** Where the proposer starts: the log position and term recovered from the WAL. */
export interface ProposerStart {
  /** Index the next proposal gets. */
  nextIndex: number;
  /** Term stamped on new entries (one member: bumped on every start, as etcd's election would). */
  term: number;
  /** Proposals larger than this, encoded, fail with `request is too large`. */
  maxRequestBytes: number;
  /** Encoded bytes in flight before `too many requests`; default {@link MAX_IN_FLIGHT_BYTES}. */
  maxInFlightBytes?: number;
  /**
   * Called once if the WAL cannot be written or apply fails unexpectedly: the member must stop,
   * it can no longer promise durability or a state that matches its backend.
   */
  onFatal(error: Error): void;
  /** Called after every applied batch (checkpointing). */
  onApplied(): void;
}

/**
 * The single-member write path: propose → WAL append + fdatasync → commit → apply → reply.
 *
 * Proposals arriving in the same event-loop turn become one WAL batch; batches made while an
 * fsync is in flight are coalesced by the WAL (group commit). With one member an entry is
 * committed as soon as it is durable; Raft will later replace only that decision. Entries are
 * applied strictly in log order, and a caller's promise resolves with its entry's outcome.
 */
export class Proposer {
  private nextIndex: number;
  private readonly term: number;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private applyTail: Promise<void> = Promise.resolve();
  private nextRequestId = 1n;
  private failure: Error | undefined;
  /** Proposed but not yet applied. */
  private inFlight = 0;
  /** Encoded bytes of the proposals in flight. */
  private inFlightBytes = 0;

  constructor(
    private readonly wal: Wal,
    private readonly stateMachine: StateMachine,
    private readonly start: ProposerStart,
  ) {
    this.nextIndex = start.nextIndex;
    this.term = start.term;
  }

  /** Index of the last entry handed to the WAL. */
  get lastIndex(): number {
    return this.nextIndex - 1;
  }

  /** Proposes one request; resolves with its apply outcome once it is durable and applied. */
  propose(request: Proposal): Promise<ApplyOutcome> {
    if (this.failure !== undefined) return Promise.reject(new EtcdServerError("stopped"));
    const message: keywaypb.InternalRequest = { id: this.nextRequestId++, request };
    const encoded = encodeMessage(keywaypb.InternalRequest, message);
    if (encoded.length > this.start.maxRequestBytes) {
      return Promise.reject(new EtcdServerError("requestTooLarge"));
    }
    if (
      this.inFlight >= MAX_IN_FLIGHT_PROPOSALS ||
      this.inFlightBytes + encoded.length > (this.start.maxInFlightBytes ?? MAX_IN_FLIGHT_BYTES)
    )
      return Promise.reject(new EtcdServerError("tooManyRequests"));
    this.inFlight++;
    this.inFlightBytes += encoded.length;
    return new Promise<ApplyOutcome>((resolve, reject) => {
      const settle = () => {
        this.inFlight--;
        this.inFlightBytes -= encoded.length;
      };
      this.queue.push({
        entry: { index: 0, term: this.term, request: message },
        encoded,
        resolve: (outcome) => {
          settle();
          resolve(outcome);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves when every proposal made so far has been applied (or failed). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushScheduled) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.applyTail.catch(() => undefined);
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const walEntries: WalEntry[] = batch.map((pending) => {
      pending.entry.index = this.nextIndex++;
      return { index: pending.entry.index, term: this.term, data: pending.encoded };
    });
    const durable = this.wal.append({ entries: walEntries });
    // applyTail never rejects: every failure is handled by fail(), so later batches still run
    // their own then-callbacks (and are refused there) instead of inheriting a rejection.
    this.applyTail = this.applyTail
      .then(() => durable)
      .then(
        () => this.apply(batch),
        (error: unknown) => this.fail(batch, error),
      );
  }

  /**
   * Applies a durable batch and answers its callers. An exception from apply is a bug or a
   * backend failure, never an etcd error (those come back as outcomes): the batch is refused and
   * the member stops, since its in-memory state may no longer match the backend.
   */
  private apply(batch: Pending[]): void {
    if (this.failure !== undefined) {
      for (const pending of batch) pending.reject(new EtcdServerError("stopped"));
      return;
    }
    let outcomes: ApplyOutcome[];
    try {
      outcomes = this.stateMachine.applyBatch(batch.map((pending) => pending.entry));
    } catch (error) {
      this.fail(batch, new Error("apply failed; the member stops", { cause: error }));
      return;
    }
    for (const [i, pending] of batch.entries()) pending.resolve(outcomes[i] as ApplyOutcome);
    this.start.onApplied();
  }

  private fail(batch: Pending[], cause: unknown): void {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    for (const pending of batch) pending.reject(new EtcdServerError("stopped"));
    if (this.failure === undefined) {
      this.failure = error;
      this.start.onFatal(error);
    }
  }
}
