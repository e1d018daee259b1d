import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { decodeSegment } from "../../src/wal/decode.js";
import type { WalEntry, WalLogger } from "../../src/wal/index.js";

/** A fresh temp directory, removed when the current test finishes. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "keyway-wal-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An entry whose data names its index and term (so a wrong record is visible in a diff). */
export function entry(index: number, term = 1, size = 0): WalEntry {
  const text = `e${index}t${term}`;
  return { index, term, data: Buffer.from(text.padEnd(Math.max(size, text.length), ".")) };
}

/** Entries `from`..`to` inclusive. */
export function entries(from: number, to: number, term = 1, size = 0): WalEntry[] {
  const out: WalEntry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, size));
  return out;
}

/** `[index, term, data as text]` triples, for readable equality checks. */
export function summary(list: readonly WalEntry[]): Array<[number, number, string]> {
  return list.map((e) => [e.index, e.term, Buffer.from(e.data).toString()]);
}

/** A logger that keeps what it was given. */
export function memoryLogger(): WalLogger & { lines: Array<{ level: string; obj: object; msg: string }> } {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: "info", obj, msg }),
    warn: (obj, msg) => lines.push({ level: "warn", obj, msg }),
  };
}

/** Segment file names of `dir`, sorted. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(".wal")).sort();
}

/** Bytes of a segment file up to the end of its records (preallocated zeros after it not counted). */
export async function recordBytes(path: string): Promise<number> {
  return decodeSegment(await readFile(path)).validBytes;
}
