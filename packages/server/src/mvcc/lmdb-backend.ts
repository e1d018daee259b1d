import { type Database, open, type RootDatabase } from "lmdb";
import {
  BACKEND_TABLES,
  type BackendEntry,
  type BackendSize,
  type BackendTable,
  type BackendWrite,
  type KvBackend,
  type KvSnapshot,
  type TableEntry,
} from "./kv-backend.js";

interface LmdbStats {
  pageSize: number;
  lastPageNumber: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
}

/**
 * {@link KvBackend} on LMDB (lmdb-js), one named database per table.
 *
 * Opened with `overlappingSync`, never `noSync`: lmdb-js's LMDB marks a meta page as flushed only
 * after the data pages it points at are on disk, picks an unflushed one after a reboot only if it
 * was flushed, and reuses no page freed after the last flushed commit. A machine crash therefore
 * leaves the last flushed commit (or a later one) intact. With `noSync` the OS may write the meta
 * page before the pages it points at, and a machine crash can leave a root pointing at garbage,
 * which no WAL replay repairs.
 *
 * A commit is an asynchronous lmdb-js transaction: the puts run on the main thread (~1.4 µs
 * each), the commit and the flush (an fsync, 0.2-20 ms depending on the disk's load) on lmdb-js's
 * write thread, so the event loop never waits for the disk; {@link commit} resolves once flushed.
 * It runs per background commit (backend.ts), never per request.
 */
export class LmdbBackend implements KvBackend {
  private readonly root: RootDatabase<Buffer, Buffer>;
  private readonly dbs: Record<BackendTable, Database<Buffer, Buffer>>;

  private constructor(dir: string) {
    this.root = open<Buffer, Buffer>({
      path: dir,
      overlappingSync: true,
      maxDbs: BACKEND_TABLES.length + 1,
      keyEncoding: "binary",
      encoding: "binary",
    });
    const table = (name: BackendTable) =>
      this.root.openDB<Buffer, Buffer>(name, { keyEncoding: "binary", encoding: "binary" });
    this.dbs = Object.fromEntries(BACKEND_TABLES.map((name) => [name, table(name)])) as typeof this.dbs;
  }

  /** Opens (creating if needed) the LMDB environment in directory `dir`. */
  static open(dir: string): LmdbBackend {
    return new LmdbBackend(dir);
  }

  get(table: BackendTable, key: Buffer): Buffer | undefined {
    return this.dbs[table].getBinary(key);
  }

  range(table: BackendTable, start: Buffer | undefined, end: Buffer | undefined): Iterable<BackendEntry> {
    return this.dbs[table].getRange({ ...(start && { start }), ...(end && { end }) });
  }

  async commit(writes: readonly BackendWrite[]): Promise<void> {
    await this.root.transaction(() => {
      for (const { table, key, value } of writes) {
        if (value === undefined) this.dbs[table].removeSync(key);
        else this.dbs[table].putSync(key, value);
      }
    });
    // Committed (visible) is not durable with overlappingSync: wait for the flush.
    await this.root.flushed;
  }

  /** An LMDB read transaction: MVCC keeps its pages while later commits write elsewhere. */
  snapshot(): KvSnapshot {
    const transaction = this.root.useReadTransaction();
    let released = false;
    return {
      get: (table, key) => this.dbs[table].get(key, { transaction }),
      range: (table, start, end) =>
        this.dbs[table].getRange({ transaction, ...(start && { start }), ...(end && { end }) }),
      release: () => {
        if (released) return;
        released = true;
        transaction.done();
      },
    };
  }

  /**
   * One synchronous LMDB write transaction that empties every table and writes `entries`:
   * LMDB commits it atomically, so a crash leaves the old content or the new one. Begun without
   * lmdb-js's no-sync flag, LMDB fsyncs its data pages and then its meta page before the commit
   * returns, so it is durable then (an overlappingSync commit is not). An lmdb-js asynchronous
   * transaction is not used: a throw inside it does not abort it, and clearSync there runs in a
   * transaction of its own. It holds the event loop while it writes and syncs (~2.5 µs per entry:
   * ~250 ms for 100,000 keys); the caller waits for commits in flight first.
   */
  async replaceAll(entries: readonly TableEntry[]): Promise<void> {
    this.root.transactionSync(() => {
      for (const db of Object.values(this.dbs)) db.clearSync();
      for (const { table, key, value } of entries) this.dbs[table].putSync(key, value);
    });
  }

  /** Sizes from LMDB's page counts: the file's used extent and the pages the trees hold. */
  size(): BackendSize {
    const env = this.root.getStats() as LmdbStats;
    const pages = (s: LmdbStats) => s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
    let inUsePages = 2 + pages(env);
    for (const db of Object.values(this.dbs)) inUsePages += pages(db.getStats() as LmdbStats);
    return { totalBytes: (env.lastPageNumber + 1) * env.pageSize, inUseBytes: inUsePages * env.pageSize };
  }

  close(): Promise<void> {
    return this.root.close();
  }
}
