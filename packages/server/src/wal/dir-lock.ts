/**
 * Keeps two WALs from appending to one directory: a `wal.lock` file holding the owner's pid. Two
 * writers would overwrite each other's records at the same offsets. Best effort (no flock in
 * Node): a lock whose pid is not running, or is this process but not one of its open WALs, is
 * stale and taken over.
 */
import { open, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";

const LOCK_FILE = "wal.lock";
/** Directories with an open WAL in this process. */
const lockedDirs = new Set<string>();

/** Takes the lock of `dir` (which must exist); returns the function that releases it. */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  const key = resolve(dir);
  if (lockedDirs.has(key)) throw new Error(`wal: ${dir} is already open in this process`);
  const path = join(dir, LOCK_FILE);
  if (!(await tryCreate(path))) {
    const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (Number.isSafeInteger(owner) && owner !== process.pid && isRunning(owner)) {
      throw new Error(`wal: ${dir} is in use by process ${owner} (remove ${path} if it is not)`);
    }
    await rm(path, { force: true });
    if (!(await tryCreate(path))) throw new Error(`wal: ${dir} was locked by another process meanwhile`);
  }
  lockedDirs.add(key);
  return async () => {
    lockedDirs.delete(key);
    await rm(path, { force: true });
  };
}

/** Creates the lock file with our pid; false when it exists. */
async function tryCreate(path: string): Promise<boolean> {
  try {
    const fh = await open(path, "wx");
    try {
      await fh.writeFile(`${process.pid}\n`);
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
