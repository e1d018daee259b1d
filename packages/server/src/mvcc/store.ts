import { mvccpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";
import type { Backend } from "./backend.js";
import { type IndexRange, KeyIndex } from "./key-index.js";
import { decodeKeyValue, decodeKeyValueHead, encodeKeyValue } from "./kv-codec.js";
import { ReadGate } from "./read-gate.js";
import { decodeRevision, encodeRevision } from "./revision.js";

/** What a range read returns before request-level filtering (etcd's mvcc.RangeResult). */
export interface RangeResult {
  kvs: mvccpb.KeyValue[];
  /** Keys in range at the read revision, ignoring limit. */
  count: number;
}

/** Options of a store-level range (etcd's mvcc.RangeOptions). */
export interface RangeOptions {
  /** Revision to read at; <= 0 reads the latest. */
  revision: number;
  /** Maximum kvs to fetch; 0 = all. */
  limit: number;
  /** Only count, fetch no kvs. */
  countOnly: boolean;
}

/** Converts a wire range (key, range_end) to an index range; etcd's mkGteRange included. */
export function toIndexRange(key: Uint8Array, rangeEnd: Uint8Array): IndexRange {
  const latin1 = (bytes: Uint8Array) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  if (rangeEnd.length === 0) return { key: latin1(key), end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { key: latin1(key), end: "" };
  return { key: latin1(key), end: latin1(rangeEnd) };
}

/**
 * Called by {@link MvccStore.restore} for every stored revision, oldest first: the key (latin1),
 * the lease its KeyValue names (0n for none or a tombstone) and whether it is a tombstone. The
 * last call for a key tells its live lease, which is how key→lease attachments are rebuilt.
 */
export type RestoreVisitor = (key: string, lease: bigint, tombstone: boolean) => void;

/**
 * The multi-version store (etcd's mvcc.store): a current revision, a compaction revision, the
 * in-memory {@link KeyIndex} and the {@link Backend} holding every revision's KeyValue.
 * Not thread-safe by design: one event loop owns it; writes go through {@link WriteTxn}.
 */
export class MvccStore {
  /** Latest revision; 1 for an empty store. */
  currentRevision = 1;
  /** Logical compaction revision; -1 when never compacted (etcd's compactMainRev). */
  compactRevision = -1;
  readonly index = new KeyIndex();
  /** Reads in progress across event-loop turns; physical compaction waits for them. */
  readonly readers = new ReadGate();

  private constructor(readonly backend: Backend) {}

  /**
   * Opens the store over a backend and rebuilds the index from every stored revision.
   * The current revision is the newest stored one, or the compaction revision if compaction
   * removed the newest ones (a trailing tombstone), as etcd's restore does.
   */
  static restore(backend: Backend, visit?: RestoreVisitor): MvccStore {
    const store = new MvccStore(backend);
    store.compactRevision = backend.scheduledCompact;
    let newest = 1;
    for (const { key, value } of backend.scan(encodeRevision(0, 0), Number.MAX_SAFE_INTEGER - 1)) {
      const rev = decodeRevision(key);
      const head = decodeKeyValueHead(value);
      const latin1 = head.key.toString("latin1");
      visit?.(latin1, head.lease, rev.tombstone);
      store.index.restore(latin1, rev.main, rev.sub, rev.tombstone, head.createRevision, head.version);
      newest = rev.main;
    }
    store.currentRevision = Math.max(newest, store.compactRevision, 1);
    return store;
  }

  /** Reads a range at `options.revision` as seen by a reader whose latest revision is `curRev`. */
  rangeKeys(range: IndexRange, options: RangeOptions, curRev = this.currentRevision): RangeResult {
    const atRev = this.checkReadRevision(options.revision, curRev);
    // count_only still walks the range for the count; one revision is the least it can collect.
    const { count, revs } = this.index.revisionsAt(range, atRev, options.countOnly ? 1 : options.limit);
    if (options.countOnly) return { kvs: [], count };
    const kvs: mvccpb.KeyValue[] = [];
    for (let i = 0; i < revs.length; i += 2) kvs.push(this.kvAt(revs[i] as number, revs[i + 1] as number));
    return { kvs, count };
  }

  /**
   * {@link rangeKeys} for results that may be large: the index picks every revision at once, then
   * the values are read `chunkSize` at a time with `pause()` between chunks, so the event loop is
   * never held for long. The read stays consistent: values of chosen revisions never change, and
   * physical compaction waits (see {@link ReadGate}) until the read is done.
   */
  async rangeKeysChunked(
    range: IndexRange,
    options: RangeOptions,
    chunkSize: number,
    pause: () => Promise<void>,
  ): Promise<RangeResult> {
    const atRev = this.checkReadRevision(options.revision, this.currentRevision);
    const { count, revs } = this.index.revisionsAt(range, atRev, options.countOnly ? 1 : options.limit);
    if (options.countOnly) return { kvs: [], count };
    const kvs: mvccpb.KeyValue[] = [];
    const leave = this.readers.enter();
    try {
      for (let i = 0; i < revs.length; i += 2) {
        if (i > 0 && i % (2 * chunkSize) === 0) await pause();
        kvs.push(this.kvAt(revs[i] as number, revs[i + 1] as number));
      }
    } finally {
      leave();
    }
    return { kvs, count };
  }

  /** Validates a read revision against curRev and the compaction; returns the revision to read at. */
  private checkReadRevision(revision: number, curRev: number): number {
    if (revision > curRev) throw new EtcdServerError("futureRev");
    const atRev = revision <= 0 ? curRev : revision;
    if (atRev < this.compactRevision) throw new EtcdServerError("compacted");
    return atRev;
  }

  /** The KeyValue stored at a put revision (the index guarantees it exists). */
  kvAt(main: number, sub: number): mvccpb.KeyValue {
    const bytes = this.backend.get(encodeRevision(main, sub));
    if (bytes === undefined) throw new Error(`mvcc: index points at missing revision ${main}_${sub}`);
    return decodeKeyValue(bytes);
  }

  /** A view of the latest revision for reads and checks. */
  read(): ReadView {
    return new ReadView(this);
  }

  /** Starts a write transaction at the current revision (call inside a backend write). */
  write(): WriteTxn {
    return new WriteTxn(this);
  }
}

/** Reads at the store's revision when the view was taken (etcd's storeTxnRead). */
export class ReadView {
  /** The view's latest revision. */
  readonly revision: number;

  constructor(private readonly store: MvccStore) {
    this.revision = store.currentRevision;
  }

  /** Range at `options.revision` (<= 0: the view's revision). */
  range(range: IndexRange, options: RangeOptions): RangeResult {
    return this.store.rangeKeys(range, options, this.revision);
  }
}

/** The outcome of a finished write transaction. */
export interface WriteResult {
  /** The store revision after the transaction (unchanged if nothing was written). */
  revision: number;
  /** Events of the new revision, in sub-revision order; empty if nothing changed. */
  events: mvccpb.Event[];
}

/**
 * One revision's worth of changes (etcd's storeTxnWrite): every put and delete gets main
 * revision `beginRevision + 1` and the next sub revision; reads see the txn's own writes.
 */
export class WriteTxn {
  readonly beginRevision: number;
  private readonly events: mvccpb.Event[] = [];

  constructor(private readonly store: MvccStore) {
    this.beginRevision = store.currentRevision;
  }

  /** The revision the txn's own reads use: the new one once it has written something. */
  get revision(): number {
    return this.events.length > 0 ? this.beginRevision + 1 : this.beginRevision;
  }

  /** Range inside the txn (sees its earlier writes). */
  range(range: IndexRange, options: RangeOptions): RangeResult {
    return this.store.rangeKeys(range, options, this.revision);
  }

  /** Puts a key; returns the revision the put gets. */
  put(key: Buffer, value: Buffer, lease: bigint): number {
    const main = this.beginRevision + 1;
    const sub = this.events.length;
    const { created, version } = this.store.index.put(key.toString("latin1"), main, sub);
    const kv: mvccpb.KeyValue = {
      key,
      createRevision: BigInt(created),
      modRevision: BigInt(main),
      version: BigInt(version),
      value,
      lease,
    };
    this.store.backend.put(encodeRevision(main, sub), encodeKeyValue(kv));
    this.events.push({ type: mvccpb.Event_EventType.PUT, kv, prevKv: undefined });
    return main;
  }

  /** Deletes every live key in range; returns how many and the revision to report. */
  deleteRange(range: IndexRange): { deleted: number; revision: number } {
    const keys = this.store.index.keysAt(range, this.revision);
    const main = this.beginRevision + 1;
    for (const latin1 of keys) {
      const sub = this.events.length;
      const key = Buffer.from(latin1, "latin1");
      this.store.index.tombstone(latin1, main, sub);
      this.store.backend.put(
        encodeRevision(main, sub, true),
        encodeKeyValue(mvccpb.KeyValue.fromPartial({ key })),
      );
      const kv = mvccpb.KeyValue.fromPartial({ key, modRevision: BigInt(main) });
      this.events.push({ type: mvccpb.Event_EventType.DELETE, kv, prevKv: undefined });
    }
    return { deleted: keys.length, revision: this.revision };
  }

  /** Ends the txn: the store moves to the new revision if anything was written. */
  end(): WriteResult {
    if (this.events.length > 0) this.store.currentRevision = this.beginRevision + 1;
    return { revision: this.store.currentRevision, events: this.events };
  }
}
