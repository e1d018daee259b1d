/**
 * A simulated machine: the WAL's disk ({@link SimDisk}) and a key-value backend ({@link SimKv})
 * that crash together after a seeded number of storage operations. The backend models what LMDB
 * with overlappingSync promises (lmdb-backend.ts): a commit is all or nothing, and durable once it
 * returned.
 */
import type { SeededRng } from "@keyway/raft";
import type { BackendEntry, BackendSize, BackendTable, BackendWrite } from "../../src/mvcc/index.js";
import { BACKEND_TABLES, type KvBackend, type KvSnapshot, type TableEntry } from "../../src/mvcc/index.js";
import { MachineCrashed, SimDisk } from "./sim-disk.js";

type Tables = Record<BackendTable, Map<string, Buffer>>;

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const emptyTables = (): Tables =>
  Object.fromEntries(BACKEND_TABLES.map((name) => [name, new Map()])) as Tables;

/** A copy of every table (the maps; values are never mutated in place). */
const copyTables = (tables: Tables): Tables =>
  Object.fromEntries(BACKEND_TABLES.map((name) => [name, new Map(tables[name])])) as Tables;

/** The backend of a simulated machine; its tables are what is on disk. */
export class SimKv implements KvBackend {
  private sorted: Partial<Record<BackendTable, string[]>> = {};

  constructor(
    readonly tables: Tables,
    private readonly step: () => void,
    private readonly crashed: () => boolean,
  ) {}

  get(table: BackendTable, key: Buffer): Buffer | undefined {
    return this.tables[table].get(key.toString("latin1"));
  }

  *range(table: BackendTable, start: Buffer | undefined, end: Buffer | undefined): Generator<BackendEntry> {
    let keys = this.sorted[table];
    if (keys === undefined) {
      keys = [...this.tables[table].keys()].sort((a, b) =>
        Buffer.compare(Buffer.from(a, "latin1"), Buffer.from(b, "latin1")),
      );
      this.sorted[table] = keys;
    }
    const from = start?.toString("latin1");
    const to = end?.toString("latin1");
    // latin1 strings compare like their bytes.
    for (const latin1 of keys) {
      if (from !== undefined && latin1 < from) continue;
      if (to !== undefined && latin1 >= to) return;
      const value = this.tables[table].get(latin1);
      if (value !== undefined) yield { key: Buffer.from(latin1, "latin1"), value };
    }
  }

  /**
   * Like lmdb-js's asynchronous commit with overlappingSync: the writes become visible a turn
   * later (reads meanwhile see the buffer), or not at all if the machine crashes first, and the
   * commit resolves (flushed) only a turn after that, so reads meet the same writes both in the
   * backend and in the committing layer.
   */
  async commit(writes: readonly BackendWrite[]): Promise<void> {
    this.step();
    await nextTurn();
    if (this.crashed()) throw new MachineCrashed();
    for (const { table, key, value } of writes) {
      if (value === undefined) this.tables[table].delete(key.toString("latin1"));
      else this.tables[table].set(key.toString("latin1"), value);
    }
    this.sorted = {};
    await nextTurn();
    if (this.crashed()) throw new MachineCrashed();
  }

  /** A copy of the tables now: LMDB's read transaction, without the storage cost. */
  snapshot(): KvSnapshot {
    const view = new SimKv(
      copyTables(this.tables),
      () => undefined,
      () => false,
    );
    return {
      get: (table, key) => view.get(table, key),
      range: (...args) => view.range(...args),
      release: () => {},
    };
  }

  /** Like {@link commit}: all or nothing, visible a turn later, durable a turn after that. */
  async replaceAll(entries: readonly TableEntry[]): Promise<void> {
    this.step();
    await nextTurn();
    if (this.crashed()) throw new MachineCrashed();
    for (const name of BACKEND_TABLES) this.tables[name].clear();
    for (const { table, key, value } of entries)
      this.tables[table].set(key.toString("latin1"), Buffer.from(value));
    this.sorted = {};
    await nextTurn();
    if (this.crashed()) throw new MachineCrashed();
  }

  size(): BackendSize {
    let bytes = 0;
    for (const table of Object.values(this.tables)) for (const value of table.values()) bytes += value.length;
    return { totalBytes: bytes, inUseBytes: bytes };
  }

  async close(): Promise<void> {}
}

/** One boot of a simulated machine: its disk, its backend, and a crash after `crashAfterSteps` operations. */
export class SimMachine {
  readonly disk: SimDisk;
  readonly kv: SimKv;
  private stepsLeft: number;
  private down = false;

  private constructor(disk: (step: () => void) => SimDisk, tables: Tables, crashAfterSteps: number) {
    this.stepsLeft = crashAfterSteps;
    const step = () => this.step();
    this.disk = disk(step);
    this.kv = new SimKv(tables, step, () => this.down);
  }

  /** A new machine with empty storage. */
  static boot(crashAfterSteps = Number.POSITIVE_INFINITY): SimMachine {
    return new SimMachine((step) => new SimDisk(step), emptyTables(), crashAfterSteps);
  }

  /** Whether the machine has crashed. */
  get crashed(): boolean {
    return this.down;
  }

  /** Crashes now (if it has not already). */
  crash(): void {
    this.down = true;
  }

  /** Boots the machine again from what its storage kept; the old processes are gone. */
  reboot(rng: SeededRng, crashAfterSteps = Number.POSITIVE_INFINITY): SimMachine {
    this.down = true;
    return new SimMachine(
      (step) => this.disk.afterCrash(rng, step),
      copyTables(this.kv.tables),
      crashAfterSteps,
    );
  }

  private step(): void {
    if (this.down) throw new MachineCrashed();
    if (--this.stepsLeft < 0) {
      this.down = true;
      throw new MachineCrashed();
    }
  }
}
