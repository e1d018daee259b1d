/**
 * The file operations the WAL makes, as an injected interface: the real one is `node:fs`
 * ({@link nodeWalFs}); a simulated twin (test/sim/) models a machine whose unsynced writes are
 * lost or torn by a crash, so recovery can be checked at thousands of crash points in-process.
 */
import { constants, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";

/** An open file. Positions and lengths are in bytes. */
export interface WalFile {
  /** Writes `length` bytes of `buf` from `offset` at file position `position`; returns bytes written. */
  write(buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  /**
   * The same write made on the calling thread, which it blocks until done (with O_DSYNC, until
   * the data is durable); returns bytes written.
   */
  writeNow(buf: Buffer, offset: number, length: number, position: number): number;
  /** Makes the file's data durable (fdatasync). */
  datasync(): Promise<void>;
  /** Makes data and metadata durable (fsync); on a directory, its entries. */
  sync(): Promise<void>;
  /** Cuts the file to `length` bytes (durable only after the next sync). */
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** How a file is opened: read, read-write, create/truncate, create-exclusive (EEXIST if present). */
export type WalOpenFlags = "r" | "r+" | "w" | "wx";

/**
 * The directory and file operations of the WAL. Entry changes (create, rename, unlink) are durable
 * only after the parent directory is synced (`open(dir, "r")` then `sync()`).
 */
export interface WalFs {
  /**
   * Opens a file. With `dataSync` (only with "r+"), a write resolves once its data is durable
   * (O_DSYNC), so no fdatasync call is needed after it.
   */
  open(path: string, flags: WalOpenFlags, options?: { dataSync?: boolean }): Promise<WalFile>;
  readFile(path: string): Promise<Buffer>;
  /** Names in a directory (not paths), in no particular order. */
  readdir(dir: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; with `force`, a missing file is not an error. */
  unlink(path: string, force: boolean): Promise<void>;
  /** mkdir -p; returns the first directory it created, or undefined when all existed. */
  mkdirs(dir: string): Promise<string | undefined>;
}

/** The real file system. */
export const nodeWalFs: WalFs = {
  async open(path, flags, options) {
    if (options?.dataSync === true && flags !== "r+")
      throw new Error(`wal: dataSync needs "r+", not "${flags}"`);
    const fh = await open(path, options?.dataSync === true ? constants.O_RDWR | constants.O_DSYNC : flags);
    return {
      write: async (buf, offset, length, position) =>
        (await fh.write(buf, offset, length, position)).bytesWritten,
      writeNow: (buf, offset, length, position) => writeSync(fh.fd, buf, offset, length, position),
      datasync: () => fh.datasync(),
      sync: () => fh.sync(),
      truncate: (length) => fh.truncate(length),
      close: () => fh.close(),
    };
  },
  readFile: (path) => readFile(path),
  readdir: (dir) => readdir(dir),
  rename: (from, to) => rename(from, to),
  unlink: (path, force) => rm(path, { force }),
  mkdirs: (dir) => mkdir(dir, { recursive: true }),
};
