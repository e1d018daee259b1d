/**
 * The write-ahead log: appends are made durable (one positioned write + one fdatasync per group)
 * before their promise resolves, and concurrent appends share that write (group commit).
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CommitGroup } from "./commit-group.js";
import { lockDir } from "./dir-lock.js";
import { batchSize, encodeMetadata, segmentHead } from "./format.js";
import { nodeWalFs, type WalFile, type WalFs } from "./fs.js";
import { InlineWrites } from "./inline-writes.js";
import { type RecoveredSegment, recoverDir } from "./recover.js";
import {
  createDir,
  createSegment,
  fsyncDir,
  segmentFileName,
  writeFully,
  writeFullyNow,
} from "./segment-file.js";
import type {
  HardState,
  WalBatch,
  WalLogger,
  WalOptions,
  WalReplay,
  WalSnapshot,
  WalStats,
} from "./types.js";
import { checkBatch, type LogPosition } from "./validate.js";

/** Default {@link WalOptions.segmentSizeBytes}: 64 MiB. */
export const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 1024 * 1024;
/**
 * Zeros written ahead of the records at a time (at most a segment's size): the writes that land
 * there then change no file size, which would cost a file-system journal commit on every O_DSYNC
 * write or fdatasync (as etcd preallocates its segments; the gain is in docs/benchmarks.md).
 */
export const PREALLOCATION_BYTES = 1024 * 1024;
/** An fdatasync slower than this is logged, as etcd does. */
const SLOW_SYNC_MS = 1000;

/** What has been written to the files so far (repeated at the head of each new segment). */
interface WrittenState {
  lastIndex: number;
  hardState: HardState | undefined;
  snapshot: WalSnapshot | undefined;
}

/**
 * Segmented, CRC-checked write-ahead log (format: format.ts). One per directory: a `wal.lock`
 * file keeps a second one out, in this process or another (dir-lock.ts).
 *
 * After a failed write or fdatasync the WAL rejects every append (what reached the disk is then
 * unknown); the server must stop and recover by reopening.
 */
export class Wal implements AsyncDisposable {
  readonly #dir: string;
  readonly #fs: WalFs;
  readonly #segmentSizeBytes: number;
  readonly #logger: WalLogger | undefined;
  readonly #unlock: () => Promise<void>;
  readonly #onFsync: ((durationSeconds: number) => void) | undefined;
  /** Writes are O_DSYNC: durable on return, no fdatasync after them. */
  readonly #dataSync: boolean;
  /** Which O_DSYNC writes skip the thread pool. */
  readonly #inline = new InlineWrites();
  readonly #metadataRecord: Buffer;
  readonly #segments: RecoveredSegment[];
  #fh: WalFile;
  /** Bytes in the current (last) segment; the next write goes there. */
  #size: number;
  /** Length of the current segment's file: zeros from #size on (see PREALLOCATION_BYTES). */
  #allocated: number;
  /** Position after every accepted append() call, to validate the next one. */
  #accepted: LogPosition;
  #written: WrittenState;
  #durableSnapshotIndex: number;
  /** Groups waiting for their write, oldest first; appends join the last one. */
  readonly #groups: CommitGroup[] = [];
  #flushing: Promise<void> | undefined;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;
  readonly #stats: WalStats = { appends: 0, writes: 0, fsyncs: 0, bytesWritten: 0, segmentsCreated: 0 };

  private constructor(
    options: WalOptions,
    metadata: Uint8Array,
    segments: RecoveredSegment[],
    tail: { fh: WalFile; size: number; allocated: number },
    written: WrittenState,
    unlock: () => Promise<void>,
  ) {
    this.#unlock = unlock;
    this.#dir = options.dir;
    this.#fs = options.fs ?? nodeWalFs;
    this.#segmentSizeBytes = options.segmentSizeBytes ?? DEFAULT_SEGMENT_SIZE_BYTES;
    this.#logger = options.logger;
    this.#onFsync = options.onFsync;
    this.#dataSync = options.syncMode === "o_dsync";
    this.#metadataRecord = encodeMetadata(metadata);
    this.#segments = segments;
    this.#fh = tail.fh;
    this.#size = tail.size;
    this.#allocated = tail.allocated;
    this.#written = written;
    this.#accepted = { lastIndex: written.lastIndex, snapshotIndex: written.snapshot?.index ?? 0 };
    this.#durableSnapshotIndex = this.#accepted.snapshotIndex;
  }

  /**
   * Opens the WAL in `options.dir` (creating the directory and a first segment when missing),
   * verifies every record and returns what it holds. A torn tail of the last segment is cut off
   * with a warning; any other damage throws {@link WalCorruptError}.
   */
  static async open(options: WalOptions): Promise<{ wal: Wal; replay: WalReplay }> {
    const segmentSizeBytes = options.segmentSizeBytes ?? DEFAULT_SEGMENT_SIZE_BYTES;
    if (!Number.isSafeInteger(segmentSizeBytes) || segmentSizeBytes <= 0) {
      throw new RangeError(`wal: segmentSizeBytes ${segmentSizeBytes} must be a positive integer`);
    }
    const fs = options.fs ?? nodeWalFs;
    await createDir(fs, options.dir);
    const unlock = await lockDir(fs, options.dir);
    try {
      return await Wal.#recover(options, unlock);
    } catch (error) {
      await unlock();
      throw error;
    }
  }

  static async #recover(
    options: WalOptions,
    unlock: () => Promise<void>,
  ): Promise<{ wal: Wal; replay: WalReplay }> {
    const fs = options.fs ?? nodeWalFs;
    const dataSync = options.syncMode === "o_dsync";
    const recovered = await recoverDir(fs, options.dir, options.logger);
    const { state, segments } = recovered;
    const written: WrittenState = {
      lastIndex: state.lastIndex(),
      hardState: state.hardState,
      snapshot: state.snapshot,
    };
    const metadata = state.metadata ?? options.metadata ?? new Uint8Array(0);
    const last = segments.at(-1);
    let tail: { fh: WalFile; size: number; allocated: number };
    if (last === undefined) {
      const name = segmentFileName(0, written.lastIndex + 1);
      const head = segmentHead(encodeMetadata(metadata), {});
      const fh = await createSegment(fs, options.dir, name, head, dataSync);
      tail = { fh, size: head.length, allocated: head.length };
      segments.push({ seq: 0, firstIndex: written.lastIndex + 1, name, maxEntryIndex: -1 });
    } else {
      tail = {
        fh: await fs.open(join(options.dir, last.name), "r+", { dataSync }),
        size: recovered.tailBytes,
        allocated: recovered.tornBytes > 0 ? recovered.tailBytes : recovered.tailFileBytes,
      };
      if (recovered.tornBytes > 0) {
        // Cut before appending: leftover bytes of the torn write must never be read back.
        await tail.fh.truncate(recovered.tailBytes);
        await tail.fh.datasync();
      }
    }
    return { wal: new Wal(options, metadata, segments, tail, written, unlock), replay: state.toReplay() };
  }

  /** Counters since open (a copy). */
  get stats(): WalStats {
    return { ...this.#stats };
  }

  /**
   * Appends `batch` (snapshot marker, entries, hard state, in that order) and resolves once it is
   * on disk and fdatasync'd. Calls made while a write is in flight are coalesced into the next
   * single write and fdatasync (up to 8 MiB per write); the order of calls is the order on disk.
   * The batch is encoded before append() returns, so the caller may reuse its buffers at once.
   * Rejects with RangeError (and writes nothing) when the batch would not replay: see {@link WalBatch}.
   */
  append(batch: WalBatch): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new Error("wal: append after close"));
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    try {
      this.#accepted = checkBatch(batch, this.#accepted);
    } catch (error) {
      return Promise.reject(error);
    }
    const bytes = batchSize(batch);
    let group = this.#groups.at(-1);
    if (group === undefined || !group.fits(bytes)) {
      group = new CommitGroup(this.#accepted.lastIndex);
      this.#groups.push(group);
    }
    const durable = group.add(batch, bytes, this.#accepted.lastIndex);
    this.#flushing ??= this.#flush();
    return durable;
  }

  /**
   * Deletes the oldest segments whose entries all have an index < `index` (after a snapshot). The
   * current segment is never deleted, nor entries not covered by a durable snapshot marker: the
   * effective bound is min(index, snapshot index + 1).
   */
  async releaseBefore(index: number): Promise<void> {
    if (this.#closing !== undefined) throw new Error("wal: releaseBefore after close");
    const bound = Math.min(index, this.#durableSnapshotIndex + 1);
    const released: RecoveredSegment[] = [];
    while (this.#segments.length > 1 && this.#segments[0]!.maxEntryIndex < bound) {
      released.push(this.#segments.shift()!);
    }
    if (released.length === 0) return;
    // Oldest first: a crash in between leaves a contiguous run of segments.
    for (const segment of released) await this.#fs.unlink(join(this.#dir, segment.name), false);
    await fsyncDir(this.#fs, this.#dir);
    this.#logger?.info(
      { dir: this.#dir, segments: released.map((s) => s.name), index },
      "wal: released segments",
    );
  }

  /** Waits for queued appends to be durable, then closes the file. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#flushing;
      await this.#fh.close();
      await this.#unlock();
    })();
    return this.#closing;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #flush(): Promise<void> {
    // One microtask turn first, so that appends made in the same tick share the first write.
    await undefined;
    try {
      while (this.#groups.length > 0 && this.#failure === undefined) await this.#write(this.#groups.shift()!);
    } finally {
      this.#flushing = undefined;
    }
  }

  /** Writes and fdatasyncs one group (in a new segment when the current one is full). */
  async #write(group: CommitGroup): Promise<void> {
    try {
      const bytes = group.seal();
      if (bytes.length > 0) {
        if (this.#size >= this.#segmentSizeBytes) await this.#startSegment();
        await this.#preallocate(bytes.length);
        this.#noteWritten(group);
        await this.#writeDurably(bytes);
        this.#stats.writes++;
        this.#stats.bytesWritten += bytes.length;
      }
      this.#durableSnapshotIndex = this.#written.snapshot?.index ?? 0;
      this.#stats.appends += group.appends;
      group.resolve();
    } catch (error) {
      this.#fail(error, group);
    }
  }

  #noteWritten(group: CommitGroup): void {
    const written = this.#written;
    written.lastIndex = group.lastIndex;
    if (group.hardState !== undefined) written.hardState = group.hardState;
    if (group.snapshot !== undefined) written.snapshot = group.snapshot;
    const segment = this.#segments.at(-1)!;
    segment.maxEntryIndex = Math.max(segment.maxEntryIndex, group.maxEntryIndex);
  }

  /**
   * Writes at the end of the segment and makes it durable: fdatasync, or an O_DSYNC write (made
   * inline when small and the disk is fast: see inline-writes.ts).
   */
  async #writeDurably(bytes: Buffer): Promise<void> {
    if (!this.#dataSync) await writeFully(this.#fh, bytes, this.#size);
    // What the fsync metric measures: the fdatasync, or the O_DSYNC write that includes it.
    const startMs = performance.now();
    if (!this.#dataSync) await this.#fh.datasync();
    else if (this.#inline.wanted(bytes.length)) writeFullyNow(this.#fh, bytes, this.#size);
    else await writeFully(this.#fh, bytes, this.#size);
    this.#size += bytes.length;
    this.#allocated = Math.max(this.#allocated, this.#size);
    this.#stats.fsyncs++;
    const tookMs = performance.now() - startMs;
    this.#inline.observed(tookMs);
    this.#onFsync?.(tookMs / 1000);
    if (tookMs > SLOW_SYNC_MS) this.#logger?.warn({ dir: this.#dir, tookMs }, "wal: slow fdatasync");
  }

  /**
   * Before a write of `bytes` that would grow the file, writes the next PREALLOCATION_BYTES of
   * zeros (durably) for it and the writes after it to land in. A write that large grows the file
   * itself, as does the last of a full segment.
   */
  async #preallocate(bytes: number): Promise<void> {
    const room = Math.min(PREALLOCATION_BYTES, this.#segmentSizeBytes);
    if (this.#size + bytes <= this.#allocated || bytes >= room || this.#allocated >= this.#segmentSizeBytes)
      return;
    const zeros = Buffer.alloc(room);
    await writeFully(this.#fh, zeros, this.#allocated);
    if (!this.#dataSync) await this.#fh.datasync();
    this.#allocated += room;
  }

  /** Starts the next segment; its head repeats metadata, snapshot marker and hard state. */
  async #startSegment(): Promise<void> {
    const { lastIndex, hardState, snapshot } = this.#written;
    const state: WalBatch = { ...(hardState && { hardState }), ...(snapshot && { snapshot }) };
    const head = segmentHead(this.#metadataRecord, state);
    const seq = this.#segments.at(-1)!.seq + 1;
    const name = segmentFileName(seq, lastIndex + 1);
    const fh = await createSegment(this.#fs, this.#dir, name, head, this.#dataSync);
    this.#stats.fsyncs++;
    this.#stats.segmentsCreated++;
    const previous = this.#fh;
    this.#fh = fh;
    this.#size = head.length;
    this.#allocated = head.length;
    this.#segments.push({ seq, firstIndex: lastIndex + 1, name, maxEntryIndex: -1 });
    // The previous segment was fdatasync'd with its last group; closing it is all that is left.
    await previous.close();
    this.#logger?.info({ dir: this.#dir, file: name }, "wal: started segment");
  }

  #fail(cause: unknown, group: CommitGroup): void {
    const error = new Error("wal: write failed; reopen the WAL to recover", { cause });
    this.#failure = error;
    for (const failed of [group, ...this.#groups.splice(0)]) failed.reject(error);
  }
}
