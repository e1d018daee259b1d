/**
 * Keeps two WALs from appending to one directory: a `wal.lock` file holding the owner's pid. Two
 * writers would overwrite each other's records at the same offsets. Best effort (no flock in
 * Node): a lock whose pid is not running, or is this process but not one of its open WALs, is
 * stale and taken over.
 */
import { join, resolve } from "node:path";
import type { WalFs } from "./fs.js";

const LOCK_FILE = "wal.lock";
/** Directories with an open WAL in this process, per file system (a simulated machine has its own). */
const lockedDirsByFs = new WeakMap<WalFs, Set<string>>();

/** Takes the lock of `dir` (which must exist); returns the function that releases it. */
export async function lockDir(fs: WalFs, dir: string): Promise<() => Promise<void>> {
  const key = resolve(dir);
  let lockedDirs = lockedDirsByFs.get(fs);
  if (lockedDirs === undefined) {
    lockedDirs = new Set();
    lockedDirsByFs.set(fs, lockedDirs);
  }
  if (lockedDirs.has(key)) throw new Error(`wal: ${dir} is already open in this process`);
  const path = join(dir, LOCK_FILE);
  if (!(await tryCreate(fs, path))) {
    const text = await fs.readFile(path).then(
      (bytes) => bytes.toString("utf8"),
      () => "",
    );
    // Without its newline the file is a write torn by a machine crash: its number names no one.
    const owner = text.endsWith("\n") ? Number.parseInt(text, 10) : Number.NaN;
    if (Number.isSafeInteger(owner) && owner !== process.pid && isRunning(owner)) {
      throw new Error(`wal: ${dir} is in use by process ${owner} (remove ${path} if it is not)`);
    }
    await fs.unlink(path, true);
    if (!(await tryCreate(fs, path))) throw new Error(`wal: ${dir} was locked by another process meanwhile`);
  }
  lockedDirs.add(key);
  return async () => {
    lockedDirs.delete(key);
    await fs.unlink(path, true);
  };
}

/** Creates the lock file with our pid; false when it exists. */
async function tryCreate(fs: WalFs, path: string): Promise<boolean> {
  try {
    const fh = await fs.open(path, "wx");
    try {
      const pid = Buffer.from(`${process.pid}\n`);
      await fh.write(pid, 0, pid.length, 0);
    } finally {
      await fh.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
