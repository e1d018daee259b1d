import { type Comparison, compare, type Keyspace, KeywayError, op, type Session } from "@keyway/client";
import { EventEmitter } from "eventemitter3";
import { acquire, deleteOwnKey } from "./acquire.js";
import { callSignal, type WaitOptions } from "./call-signal.js";
import { LockError } from "./errors.js";
import type { LockEvents } from "./events.js";
import { type Leader, toLeader } from "./leader.js";
import { type LocalRelease, localQueue } from "./local-queue.js";
import { checkSession, keyPrefix, leaseHex } from "./names.js";
import { observeLeader } from "./observe.js";
import type { Ownership } from "./ownership.js";

/** Options of {@link Election}. */
export interface ElectionOptions {
  /** The session whose lease the candidate key is bound to. */
  session: Session;
}

/** Events of an election: the lock events (for this candidate) plus `leader-changed` (from observe()). */
export interface ElectionEvents extends LockEvents {
  /** An `observe()` iteration saw a new leader or a proclaimed value. */
  "leader-changed": (leader: Leader) => void;
}

/**
 * Leader election with Go's `concurrency.Election` layout and semantics, so `etcdctl elect`, Go
 * services and Node processes take part in one election: each candidate puts `name/` + hex(lease)
 * with its value; the oldest key (lowest create revision) leads. `campaign` waits for leadership,
 * `proclaim` changes the leader's value, `resign` steps down, `leader()` reads the leader and
 * `observe()` follows it. While leading, `signal` aborts and `lost` fires when the lease or the key
 * is lost.
 */
export class Election extends EventEmitter<ElectionEvents> {
  /** The key prefix: `name/`. */
  readonly prefix: Buffer;
  /** This candidate's key: `name/` + hex(lease). */
  readonly key: Buffer;
  private leading: { ownership: Ownership; release: LocalRelease } | undefined;

  constructor(
    private readonly keyspace: Keyspace,
    name: string | Uint8Array,
    options: ElectionOptions,
  ) {
    super();
    this.prefix = keyPrefix(name);
    checkSession(options?.session);
    this.session = options.session;
    this.key = Buffer.concat([this.prefix, Buffer.from(leaseHex(this.session.leaseId))]);
  }

  private readonly session: Session;

  /** True while this candidate leads (campaign won, not resigned, not lost). */
  get isLeader(): boolean {
    return this.leading !== undefined && !this.leading.ownership.signal.aborted;
  }

  /** Aborted when the leadership is lost; undefined when not leading. */
  get signal(): AbortSignal | undefined {
    return this.leading?.ownership.signal;
  }

  /** The leadership's fencing token (the key's create revision), or undefined. */
  get fencingToken(): bigint | undefined {
    return this.leading?.ownership.createRevision;
  }

  /** A txn compare that holds only while this candidate still leads; `notHeld` when not leading. */
  isOwner(): Comparison {
    if (this.leading === undefined) throw new LockError("notHeld", `not campaigning in ${this.prefix}`);
    return this.leading.ownership.isOwner();
  }

  /**
   * Campaigns with `value` and resolves once elected. Candidates of one session and name in this
   * process queue in-process first. Abort or timeout withdraws the candidacy (deletes the key).
   * If the key already existed (same lease), or this candidate already leads, `value` is
   * proclaimed instead, as in Go.
   */
  async campaign(value: string | Uint8Array, options?: WaitOptions): Promise<void> {
    checkValue(value);
    checkSession(this.session);
    // Campaigning again while leading is Go's re-entry through the same lease: a proclaim.
    if (this.isLeader) return this.proclaim(value);
    using call = callSignal(options, "campaign");
    const release = await localQueue(this.session, this.key).take(call.signal);
    try {
      const spec = { keyspace: this.keyspace, session: this.session, key: this.key, value };
      const { ownership } = await acquire({ ...spec, queuePrefix: this.prefix, permits: 1 }, call.signal, {
        onWaiting: (revision) => this.emit("waiting", { key: this.key, revision }),
        onLost: (error) => {
          release();
          this.emit("lost", error);
        },
        afterCreate: async (created) => {
          if (created.existing !== undefined && !created.existing.value.equals(Buffer.from(value)))
            await this.put(created.revision, value);
        },
      });
      this.leading = { ownership, release };
      this.emit("acquired", { key: this.key, fencingToken: ownership.createRevision });
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Changes the leader's value; `notHeld` when this candidate does not lead. */
  async proclaim(value: string | Uint8Array): Promise<void> {
    checkValue(value);
    const leading = this.leading;
    if (leading === undefined) throw new LockError("notHeld", `not the leader of ${this.prefix}`);
    if (leading.ownership.lostError !== undefined) throw leading.ownership.lostError;
    await this.put(leading.ownership.createRevision, value);
  }

  /**
   * Steps down (deletes the key). Without leadership it does nothing, as in Go; after a loss it
   * rejects with the loss (`lost` or `sessionLost`).
   */
  async resign(): Promise<void> {
    const leading = this.leading;
    if (leading === undefined) return;
    this.leading = undefined;
    const lost = leading.ownership.lostError;
    leading.ownership.stop();
    try {
      if (lost !== undefined) throw lost;
      await deleteOwnKey(this.keyspace, this.key, leading.ownership.createRevision);
      this.emit("released", { key: this.key });
    } finally {
      leading.release();
    }
  }

  /** The current leader; `noLeader` when there is no candidate. */
  async leader(options?: WaitOptions): Promise<Leader> {
    using call = callSignal(options, "leader");
    const result = await this.keyspace.range(this.prefix, {
      prefix: true,
      sort: { target: "create", order: "ascend" },
      limit: 1,
      signal: call.signal,
    });
    const kv = result.kvs[0];
    if (kv === undefined) throw new LockError("noLeader", `election ${this.prefix} has no leader`);
    return toLeader(kv);
  }

  /**
   * Follows the leader: yields the current leader (when there is one), then every new leader and
   * every value it proclaims, until `signal` aborts or the loop breaks. Emits `leader-changed` too.
   */
  async *observe(options: { signal?: AbortSignal } = {}): AsyncGenerator<Leader> {
    for await (const leader of observeLeader(this.keyspace, this.prefix, options.signal)) {
      this.emit("leader-changed", leader);
      yield leader;
    }
  }

  private async put(createRevision: bigint, value: string | Uint8Array): Promise<void> {
    try {
      const result = await this.keyspace
        .txn()
        .if(compare.create(this.key, "==", createRevision))
        .then(op.put(this.key, value, { lease: this.session.leaseId }))
        .commit();
      if (!result.succeeded) throw new LockError("lost", `candidate key ${this.key} is gone`);
    } catch (err) {
      if (KeywayError.is(err, "leaseNotFound"))
        throw new LockError("sessionLost", "session lease is gone", err);
      throw err;
    }
  }
}

function checkValue(value: unknown): void {
  if (typeof value !== "string" && !(value instanceof Uint8Array))
    throw new LockError("badRequest", `an election value must be a string or bytes, got ${typeof value}`);
}
