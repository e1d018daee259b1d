/** Segment files on disk: names, listing, atomic creation and directory fsync. */
import { dirname, join, resolve } from "node:path";
import type { WalFile, WalFs } from "./fs.js";

/** A segment as named on disk. */
export interface SegmentName {
  seq: number;
  firstIndex: number;
  name: string;
}

const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
const TMP_SUFFIX = ".wal.tmp";

/** `<seq:016x>-<firstIndex:016x>.wal` */
export function segmentFileName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

function hex16(value: number): string {
  return value.toString(16).padStart(16, "0");
}

/** Parses a segment file name; undefined for other files or numbers above 2^53. */
export function parseSegmentName(name: string): SegmentName | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return undefined;
  const seq = Number.parseInt(match[1]!, 16);
  const firstIndex = Number.parseInt(match[2]!, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(firstIndex)) return undefined;
  return { seq, firstIndex, name };
}

/** Segments of `dir` sorted by seq, and leftover temp files of segment creations a crash interrupted. */
export async function listSegments(
  fs: WalFs,
  dir: string,
): Promise<{ segments: SegmentName[]; leftovers: string[] }> {
  const names = await fs.readdir(dir);
  const segments = names.flatMap((name) => parseSegmentName(name) ?? []).sort((a, b) => a.seq - b.seq);
  return { segments, leftovers: names.filter((name) => name.endsWith(TMP_SUFFIX)) };
}

/** Removes the leftover temp files found by {@link listSegments}. */
export async function removeLeftovers(fs: WalFs, dir: string, leftovers: readonly string[]): Promise<void> {
  for (const name of leftovers) await fs.unlink(join(dir, name), true);
}

/**
 * Creates a segment holding `head`, atomically: written and fdatasync'd under a temp name, then
 * renamed and the directory fsync'd, so a segment file never exists without its complete head.
 * Returns the open handle (positioned writes continue at `head.length`); with `dataSync`, one
 * whose writes are durable when they return (O_DSYNC).
 */
export async function createSegment(
  fs: WalFs,
  dir: string,
  name: string,
  head: Buffer,
  dataSync = false,
): Promise<WalFile> {
  const tmpPath = join(dir, `${name}.tmp`);
  const fh = await fs.open(tmpPath, "w");
  try {
    await writeFully(fh, head, 0);
    await fh.datasync();
    await fs.rename(tmpPath, join(dir, name));
    await fsyncDir(fs, dir);
  } catch (error) {
    await fh.close();
    throw error;
  }
  if (!dataSync) return fh;
  await fh.close();
  return fs.open(join(dir, name), "r+", { dataSync: true });
}

/** Writes all of `buf` at `position` (a positioned write may write less than asked). */
export async function writeFully(fh: WalFile, buf: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < buf.length) {
    const bytesWritten = await fh.write(buf, written, buf.length - written, position + written);
    written += bytesWritten;
  }
}

/** {@link writeFully} on the calling thread ({@link WalFile.writeNow}). */
export function writeFullyNow(fh: WalFile, buf: Buffer, position: number): void {
  for (let written = 0; written < buf.length; ) {
    written += fh.writeNow(buf, written, buf.length - written, position + written);
  }
}

/** fsyncs a directory so that entries created, renamed or removed in it are durable. */
export async function fsyncDir(fs: WalFs, dir: string): Promise<void> {
  const fh = await fs.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p, then fsync the parent of every directory it created so that they survive a crash. */
export async function createDir(fs: WalFs, dir: string): Promise<void> {
  const firstCreated = await fs.mkdirs(dir);
  if (firstCreated === undefined) return;
  const top = resolve(firstCreated);
  for (let created = resolve(dir); ; created = dirname(created)) {
    await fsyncDir(fs, dirname(created));
    if (created === top || dirname(created) === created) return;
  }
}
