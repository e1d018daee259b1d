import { appendFile, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Wal, WalCorruptError } from "../../src/wal/index.js";
import { PREALLOCATION_BYTES } from "../../src/wal/wal.js";
import { entries, memoryLogger, recordBytes, segmentFiles, summary, tempDir } from "./helpers.js";

/** File header (8), empty metadata record (12), commit record (12): where appended records start. */
const FIRST_RECORD_OFFSET = 32;
/** One append of `entry(i, 1, 100)`: 12 bytes of framing + 16 of index and term + 100 of data, then a commit record. */
const APPEND_BYTES = 140;

/** A WAL in a fresh dir holding entries 1..count (100-byte data), one append each. */
async function filledWal(count: number, segmentSizeBytes?: number): Promise<{ dir: string; last: string }> {
  const dir = await tempDir();
  const { wal } = await Wal.open({ dir, ...(segmentSizeBytes !== undefined && { segmentSizeBytes }) });
  for (const e of entries(1, count, 1, 100)) await wal.append({ entries: [e] });
  await wal.close();
  const files = await segmentFiles(dir);
  return { dir, last: join(dir, files.at(-1)!) };
}

async function flipByte(path: string, offset: number): Promise<void> {
  const buf = await readFile(path);
  buf[offset]! ^= 0x01;
  await writeFile(path, buf);
}

describe("Wal recovery of a torn tail", () => {
  it("cuts a partial last record, logs it, keeps earlier records and continues appending", async () => {
    const { dir, last } = await filledWal(10);
    const fullBytes = await recordBytes(last);
    await truncate(last, fullBytes - 50);
    const logger = memoryLogger();
    const { wal, replay } = await Wal.open({ dir, logger });
    expect(summary(replay.entries)).toEqual(summary(entries(1, 9, 1, 100)));
    const warns = logger.lines.filter((l) => l.level === "warn");
    expect(warns).toHaveLength(1);
    expect(warns[0]!.obj).toMatchObject({
      file: last,
      offset: FIRST_RECORD_OFFSET + 9 * APPEND_BYTES,
      droppedBytes: APPEND_BYTES - 50,
    });
    expect((await stat(last)).size).toBe(fullBytes - APPEND_BYTES);
    expect(await recordBytes(last)).toBe(fullBytes - APPEND_BYTES);
    await wal.append({ entries: entries(10, 12, 2) });
    await wal.close();
    const again = await Wal.open({ dir, logger });
    await again.wal.close();
    expect(summary(again.replay.entries)).toEqual(summary([...entries(1, 9, 1, 100), ...entries(10, 12, 2)]));
    expect(logger.lines.filter((l) => l.level === "warn")).toHaveLength(1);
  });

  it("cuts garbage written after the last record", async () => {
    const { dir, last } = await filledWal(5);
    const garbage = Buffer.alloc(3000);
    let seed = 12345;
    for (let i = 0; i < garbage.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      garbage[i] = seed >> 16;
    }
    await appendFile(last, garbage);
    const { wal, replay } = await Wal.open({ dir });
    await wal.append({ entries: entries(6, 6, 1, 100) });
    await wal.close();
    expect(replay.entries).toHaveLength(5);
    const again = await Wal.open({ dir });
    await again.wal.close();
    expect(summary(again.replay.entries)).toEqual(summary(entries(1, 6, 1, 100)));
  });

  it("reads zeros after the last record as room to write in: preallocated, or left by a crash", async () => {
    const { dir, last } = await filledWal(5);
    await appendFile(last, Buffer.alloc(8192));
    const logger = memoryLogger();
    const { wal, replay } = await Wal.open({ dir, logger });
    expect(summary(replay.entries)).toEqual(summary(entries(1, 5, 1, 100)));
    await wal.append({ entries: entries(6, 6, 1, 100) });
    await wal.close();
    expect(logger.lines.filter((l) => l.level === "warn")).toHaveLength(0);
    const again = await Wal.open({ dir });
    await again.wal.close();
    expect(summary(again.replay.entries)).toEqual(summary(entries(1, 6, 1, 100)));
  });

  it("writes zeros ahead of the records and continues after the records, not after the zeros", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir });
    await wal.append({ entries: entries(1, 1, 1, 100) });
    const [name] = await segmentFiles(dir);
    const path = join(dir, name!);
    expect((await stat(path)).size).toBe(PREALLOCATION_BYTES + FIRST_RECORD_OFFSET);
    expect(await recordBytes(path)).toBe(FIRST_RECORD_OFFSET + APPEND_BYTES);
    await wal.close();
    const reopened = await Wal.open({ dir });
    await reopened.wal.append({ entries: entries(2, 2, 1, 100) });
    await reopened.wal.close();
    expect(await recordBytes(path)).toBe(FIRST_RECORD_OFFSET + 2 * APPEND_BYTES);
    expect((await stat(path)).size).toBe(PREALLOCATION_BYTES + FIRST_RECORD_OFFSET);
    const again = await Wal.open({ dir });
    await again.wal.close();
    expect(summary(again.replay.entries)).toEqual(summary(entries(1, 2, 1, 100)));
  });

  it("cuts a last batch whose middle sector was never written, even though its end was", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir });
    await wal.append({ entries: entries(1, 2, 1, 100) });
    await wal.append({ entries: entries(3, 40, 1, 100) }); // about 4.9 kB in one write
    await wal.close();
    const [name] = await segmentFiles(dir);
    const buf = await readFile(join(dir, name!));
    buf.fill(0, 1024, 1536);
    await writeFile(join(dir, name!), buf);
    const again = await Wal.open({ dir });
    await again.wal.close();
    // Entry 8 spans offset 1024 (32 + 268 + 5 * 128 = 940 .. 1068): it and all after it are dropped.
    expect(summary(again.replay.entries)).toEqual(summary(entries(1, 7, 1, 100)));
  });

  it("removes a segment temp file left by a crash during segment creation", async () => {
    const { dir } = await filledWal(3);
    await writeFile(join(dir, "0000000000000001-0000000000000004.wal.tmp"), Buffer.alloc(10));
    const { wal, replay } = await Wal.open({ dir });
    await wal.close();
    expect(replay.entries).toHaveLength(3);
    expect(await segmentFiles(dir)).toEqual(["0000000000000000-0000000000000001.wal"]);
  });
});

describe("Wal corruption", () => {
  it("throws WalCorruptError naming the file and offset for a bad record mid-file", async () => {
    const { dir, last } = await filledWal(10);
    const offset = FIRST_RECORD_OFFSET + 3 * APPEND_BYTES;
    await flipByte(last, offset + 40);
    const error = await Wal.open({ dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalCorruptError);
    expect(error).toMatchObject({
      file: last,
      offset,
      message: `wal corrupt: ${last} at offset ${offset}: record crc mismatch`,
    });
  });

  it("throws for a damaged tail of a segment that is not the last", async () => {
    const { dir } = await filledWal(60, 4096);
    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThan(1);
    const first = join(dir, files[0]!);
    // Into the last entry: a cut that left only the zero length field of the commit record would
    // read as a clean end (preallocated room), and lose no entry.
    await truncate(first, (await recordBytes(first)) - 30);
    await expect(Wal.open({ dir })).rejects.toThrow(`wal corrupt: ${first} at offset`);
  });

  it("throws for a segment missing in the middle", async () => {
    const { dir } = await filledWal(100, 4096);
    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    await rm(join(dir, files[1]!));
    await expect(Wal.open({ dir })).rejects.toThrow(/segment 1 is missing/);
  });

  it("throws for a file that is not a WAL segment", async () => {
    const { dir, last } = await filledWal(2);
    await flipByte(last, 0);
    await expect(Wal.open({ dir })).rejects.toThrow("bad segment file header");
  });
});
