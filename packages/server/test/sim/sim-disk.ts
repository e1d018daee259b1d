/**
 * A simulated machine's disk for the WAL: an in-memory file system ({@link WalFs}) that knows what
 * has been synced. A crash keeps synced data and synced directory entries; of a file's writes
 * since its last sync, it keeps a random prefix, and the last write kept may be torn (a random
 * prefix of its bytes). Seeded, so a failure replays from its seed.
 */
import { dirname, join } from "node:path";
import type { SeededRng } from "@keyway/raft";
import type { WalFile, WalFs, WalOpenFlags } from "../../src/wal/index.js";

type Unsynced = { kind: "write"; position: number; bytes: Buffer } | { kind: "truncate"; length: number };

class Inode {
  data: Buffer;
  /** Writes and truncates since the last sync, oldest first. */
  unsynced: Unsynced[] = [];

  constructor(public durable: Buffer) {
    this.data = Buffer.from(durable);
  }

  /** The content a crash leaves: the synced data plus a random prefix of the later changes. */
  survivor(rng: SeededRng): Buffer {
    let data: Buffer = Buffer.from(this.durable);
    const kept = rng.int(this.unsynced.length + 1);
    for (let i = 0; i < kept; i++) {
      const op = this.unsynced[i] as Unsynced;
      if (op.kind === "truncate") {
        data = resize(data, op.length);
        continue;
      }
      // The last write kept may be torn.
      const bytes =
        i === kept - 1 && rng.chance(0.5) ? op.bytes.subarray(0, rng.int(op.bytes.length)) : op.bytes;
      data = writeAt(data, bytes, op.position);
    }
    return data;
  }
}

function resize(data: Buffer, length: number): Buffer {
  if (length <= data.length) return Buffer.from(data.subarray(0, length));
  return Buffer.concat([data, Buffer.alloc(length - data.length)]);
}

function writeAt(data: Buffer, bytes: Buffer, position: number): Buffer {
  const out = resize(data, Math.max(data.length, position + bytes.length));
  bytes.copy(out, position);
  return out;
}

/** Thrown by every operation once the machine has crashed (the process is gone). */
export class MachineCrashed extends Error {
  constructor() {
    super("simulated machine crashed");
  }
}

function errno(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

/** The WAL's file system on a simulated machine; `step()` is the machine's crash clock. */
export class SimDisk implements WalFs {
  /** Live directory entries: path -> inode. */
  private readonly entries = new Map<string, Inode>();
  /** Synced directory entries, per directory. */
  private readonly durableEntries = new Map<string, Map<string, Inode>>();
  private readonly dirs = new Set<string>(["/"]);

  constructor(private readonly step: () => void) {}

  /** The disk a crash leaves, for the machine's next boot. */
  afterCrash(rng: SeededRng, step: () => void): SimDisk {
    const next = new SimDisk(step);
    for (const dir of this.dirs) next.dirs.add(dir);
    const survivors = new Map<Inode, Inode>();
    for (const [dir, names] of this.durableEntries) {
      const durable = new Map<string, Inode>();
      for (const [name, inode] of names) {
        let survivor = survivors.get(inode);
        if (survivor === undefined) {
          survivor = new Inode(inode.survivor(rng));
          survivors.set(inode, survivor);
        }
        durable.set(name, survivor);
        next.entries.set(join(dir, name), survivor);
      }
      next.durableEntries.set(dir, durable);
    }
    return next;
  }

  async open(path: string, flags: WalOpenFlags, options?: { dataSync?: boolean }): Promise<WalFile> {
    this.step();
    if (this.dirs.has(path)) return this.dirHandle(path);
    let inode = this.entries.get(path);
    if (flags === "wx" && inode !== undefined) throw errno("EEXIST", path);
    if (flags === "w" || flags === "wx") {
      if (!this.dirs.has(dirname(path))) throw errno("ENOENT", path);
      if (inode === undefined) {
        inode = new Inode(Buffer.alloc(0));
        this.entries.set(path, inode);
      } else {
        inode.data = Buffer.alloc(0);
        inode.unsynced.push({ kind: "truncate", length: 0 });
      }
    }
    if (inode === undefined) throw errno("ENOENT", path);
    return this.fileHandle(inode, options?.dataSync === true);
  }

  /** With `dataSync` (O_DSYNC), each write is durable when it returns. */
  private fileHandle(inode: Inode, dataSync: boolean): WalFile {
    const sync = async () => {
      this.step();
      inode.durable = Buffer.from(inode.data);
      inode.unsynced = [];
    };
    const writeNow = (buf: Buffer, offset: number, length: number, position: number) => {
      this.step();
      const bytes = Buffer.from(buf.subarray(offset, offset + length));
      inode.data = writeAt(inode.data, bytes, position);
      inode.unsynced.push({ kind: "write", position, bytes });
      if (dataSync) {
        inode.durable = Buffer.from(inode.data);
        inode.unsynced = [];
      }
      return length;
    };
    return {
      write: async (buf, offset, length, position) => writeNow(buf, offset, length, position),
      writeNow,
      datasync: sync,
      sync,
      truncate: async (length) => {
        this.step();
        inode.data = resize(inode.data, length);
        inode.unsynced.push({ kind: "truncate", length });
      },
      close: async () => undefined,
    };
  }

  private dirHandle(dir: string): WalFile {
    const refuse = async (): Promise<never> => {
      throw errno("EISDIR", dir);
    };
    return {
      write: refuse,
      writeNow: () => {
        throw errno("EISDIR", dir);
      },
      truncate: refuse,
      datasync: async () => this.syncDir(dir),
      sync: async () => this.syncDir(dir),
      close: async () => undefined,
    };
  }

  private syncDir(dir: string): void {
    this.step();
    const names = new Map<string, Inode>();
    for (const [path, inode] of this.entries)
      if (dirname(path) === dir) names.set(path.slice(dir.length + 1), inode);
    this.durableEntries.set(dir, names);
  }

  async readFile(path: string): Promise<Buffer> {
    this.step();
    const inode = this.entries.get(path);
    if (inode === undefined) throw errno("ENOENT", path);
    return Buffer.from(inode.data);
  }

  async readdir(dir: string): Promise<string[]> {
    this.step();
    if (!this.dirs.has(dir)) throw errno("ENOENT", dir);
    return [...this.entries.keys()]
      .filter((path) => dirname(path) === dir)
      .map((path) => path.slice(dir.length + 1));
  }

  async rename(from: string, to: string): Promise<void> {
    this.step();
    const inode = this.entries.get(from);
    if (inode === undefined) throw errno("ENOENT", from);
    this.entries.delete(from);
    this.entries.set(to, inode);
  }

  async unlink(path: string, force: boolean): Promise<void> {
    this.step();
    if (!this.entries.delete(path) && !force) throw errno("ENOENT", path);
  }

  /** Directories are created durable at once (the WAL fsyncs their parents anyway). */
  async mkdirs(dir: string): Promise<string | undefined> {
    this.step();
    let first: string | undefined;
    for (let d = dir; !this.dirs.has(d); d = dirname(d)) first = d;
    for (let d = dir; !this.dirs.has(d); d = dirname(d)) this.dirs.add(d);
    return first;
  }
}
