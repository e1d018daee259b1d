import { readdir, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it, onTestFinished } from "vitest";
import { batchSize, COMMIT_RECORD_BYTES } from "../../src/wal/format.js";
import type { HardState, WalBatch, WalEntry, WalSnapshot } from "../../src/wal/index.js";
import { Wal, WalCorruptError } from "../../src/wal/index.js";
import { memoryLogger, recordBytes, segmentFiles, summary, tempDir } from "./helpers.js";

/**
 * One abstract append: how far back it rewrites, how many entries, optional snapshot / hard state,
 * and whether it is made together with the previous one (so both share one write).
 */
interface Op {
  back: number;
  count: number;
  dataBytes: number;
  snapshotLag: number | undefined;
  hardState: boolean;
  joinPrevious: boolean;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  back: fc.nat(3),
  count: fc.integer({ min: 0, max: 4 }),
  dataBytes: fc.integer({ min: 0, max: 300 }),
  snapshotLag: fc.option(fc.nat(4), { nil: undefined, freq: 6 }),
  hardState: fc.boolean(),
  joinPrevious: fc.boolean(),
});

type Rec = { snapshot: WalSnapshot } | { entry: WalEntry } | { hardState: HardState };

/** Turns ops into valid batches (the WAL rejects the others), tracking the log like Raft would. */
function toBatches(ops: readonly Op[]): WalBatch[] {
  let lastIndex = 0;
  let snapshotIndex = 0;
  return ops.map((op, k) => {
    const term = k + 1;
    const batch: WalBatch = {};
    if (op.snapshotLag !== undefined && lastIndex - op.snapshotLag > snapshotIndex) {
      snapshotIndex = lastIndex - op.snapshotLag;
      batch.snapshot = { index: snapshotIndex, term };
    }
    const start = Math.max(snapshotIndex + 1, lastIndex + 1 - op.back);
    const list: WalEntry[] = [];
    for (let i = 0; i < op.count; i++) {
      list.push({ index: start + i, term, data: Buffer.alloc(op.dataBytes, (start + i + term) % 251) });
    }
    if (list.length > 0) {
      batch.entries = list;
      lastIndex = start + op.count - 1;
    }
    if (op.hardState || Object.keys(batch).length === 0)
      batch.hardState = { term, vote: BigInt(k), commit: k };
    return batch;
  });
}

/** The records of a batch in disk order. */
function records(batch: WalBatch): Rec[] {
  return [
    ...(batch.snapshot ? [{ snapshot: batch.snapshot }] : []),
    ...(batch.entries ?? []).map((entry) => ({ entry })),
    ...(batch.hardState ? [{ hardState: batch.hardState }] : []),
  ];
}

/** Reference replay, written as plainly as possible: filter instead of index arithmetic. */
function model(list: readonly Rec[]) {
  let entries: WalEntry[] = [];
  let hardState: HardState | undefined;
  let snapshot: WalSnapshot | undefined;
  for (const rec of list) {
    if ("entry" in rec) entries = [...entries.filter((e) => e.index < rec.entry.index), rec.entry];
    else if ("hardState" in rec) hardState = rec.hardState;
    else {
      snapshot = rec.snapshot;
      entries = entries.filter((e) => e.index > rec.snapshot.index);
    }
  }
  return { entries: summary(entries), hardState, snapshot };
}

type Damage = { kind: "truncate" | "zero-tail"; at: number } | { kind: "zero-sector"; at: number };

const damageArb: fc.Arbitrary<Damage> = fc.record({
  kind: fc.constantFrom("truncate", "zero-tail", "zero-sector"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
});

async function lastSegment(dir: string): Promise<{ path: string; size: number }> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".wal")).sort();
  const path = join(dir, names.at(-1)!);
  return { path, size: await recordBytes(path) };
}

/** One group commit: the last segment before and after it, its bytes, batches written through it. */
interface Write {
  before: { path: string; size: number };
  after: { path: string; size: number };
  bytes: number;
  batchesThrough: number;
}

/**
 * Appends `batches` into a new WAL, each wave of ops joined to the previous one at once (one
 * group commit), waiting for each wave before the next; notes the last segment around each write.
 */
async function appendAll(
  dir: string,
  ops: readonly Op[],
  batches: readonly WalBatch[],
  segmentSizeBytes: number,
) {
  const { wal } = await Wal.open({ dir, segmentSizeBytes, metadata: Buffer.from("meta") });
  const writes: Write[] = [];
  for (let start = 0; start < batches.length; ) {
    let end = start + 1;
    while (end < batches.length && ops[end]!.joinPrevious) end++;
    const wave = batches.slice(start, end);
    const before = await lastSegment(dir);
    await Promise.all(wave.map((batch) => wal.append(batch)));
    const after = await lastSegment(dir);
    const bytes = wave.reduce((sum, batch) => sum + batchSize(batch), COMMIT_RECORD_BYTES);
    writes.push({ before, after, bytes, batchesThrough: end });
    start = end;
  }
  expect(wal.stats.writes).toBe(writes.length);
  await wal.close();
  return writes;
}

const opsArb = fc.array(opArb, { minLength: 1, maxLength: 25 });
const segmentSizeArb = fc.integer({ min: 300, max: 3000 });

describe("Wal crash property", () => {
  it("replays a prefix of the appends that includes every append acknowledged before the damage", async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, segmentSizeArb, damageArb, async (ops, segmentSizeBytes, damage) => {
        const dir = await tempDir();
        const batches = toBatches(ops);
        const writes = await appendAll(dir, ops, batches, segmentSizeBytes);
        const acked = await applyDamage(damage, writes);

        const opened = await Wal.open({ dir });
        onTestFinished(() => opened.wal.close());
        const all = batches.flatMap(records);
        const minRecords = batches.slice(0, acked).flatMap(records).length;
        const { entries, hardState, snapshot } = opened.replay;
        const got = { entries: summary(entries), hardState, snapshot };
        const prefixes = [...all, undefined].map((_, r) => r).filter((r) => r >= minRecords);
        expect(prefixes.some((r) => isDeepEqual(got, model(all.slice(0, r))))).toBe(true);
        expect(Buffer.from(opened.replay.metadata!).toString()).toBe("meta");

        // The WAL continues after recovery, and what it appends then is read back.
        const next = (entries.at(-1)?.index ?? snapshot?.index ?? 0) + 1;
        await opened.wal.append({ entries: [{ index: next, term: 999, data: Buffer.from("after") }] });
        await opened.wal.close();
        const logger = memoryLogger();
        const again = await Wal.open({ dir, logger });
        await again.wal.close();
        expect(summary(again.replay.entries)).toEqual([...got.entries, [next, 999, "after"]]);
        expect(logger.lines).toEqual([]); // the first recovery cut the damaged tail off for good
      }),
      { numRuns: 40 },
    );
  });

  it("refuses to open when a bit flipped anywhere before the last write", async () => {
    await fc.assert(
      fc.asyncProperty(
        opsArb,
        segmentSizeArb,
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.nat(7),
        async (ops, segmentSizeBytes, where, bit) => {
          const dir = await tempDir();
          const writes = await appendAll(dir, ops, toBatches(ops), segmentSizeBytes);
          // Every byte on disk before the last write was acknowledged; a tear cannot explain damage there.
          const { before, after: last } = writes.at(-1)!;
          const lastWriteStart = before.path === last.path ? before.size : 0;
          const files = (await segmentFiles(dir)).map((name) => join(dir, name));
          const spans = await Promise.all(
            files.map(async (path) => ({
              path,
              bytes: path === last.path ? lastWriteStart : await recordBytes(path),
            })),
          );
          const { path, offset } = locate(
            spans,
            Math.floor(where * spans.reduce((sum, s) => sum + s.bytes, 0)),
          );
          const buf = await readFile(path);
          buf[offset]! ^= 1 << bit;
          await writeFile(path, buf);
          await expect(Wal.open({ dir })).rejects.toThrow(WalCorruptError);
        },
      ),
      { numRuns: 40 },
    );
  });
});

/** The file and offset of the `position`-th byte of `spans` laid end to end. */
function locate(spans: ReadonlyArray<{ path: string; bytes: number }>, position: number) {
  let offset = position;
  for (const span of spans) {
    if (offset < span.bytes) return { path: span.path, offset };
    offset -= span.bytes;
  }
  throw new Error(`position ${position} is past the spans`);
}

/**
 * Damages the last segment like a crash at some moment would; returns how many appends had been
 * acknowledged by then (their bytes must survive).
 */
async function applyDamage(damage: Damage, writes: readonly Write[]): Promise<number> {
  const lastWrite = writes.at(-1)!;
  const last = lastWrite.after;
  const firstInLast = writes.find((write) => write.after.path === last.path)!;
  // A segment is created whole (temp file + rename), so a crash never cuts into its head.
  const headBytes = firstInLast.after.size - firstInLast.bytes;
  if (damage.kind === "zero-sector") {
    // A sector of the last write that never reached the disk; that write was not acknowledged.
    const from = lastWrite.before.path === last.path ? lastWrite.before.size : headBytes;
    const at = from + Math.floor(damage.at * (last.size - from));
    const sectorEnd = (Math.floor(at / 512) + 1) * 512;
    const buf = await readFile(last.path);
    buf.fill(0, Math.max(from, sectorEnd - 512), Math.min(last.size, sectorEnd));
    await writeFile(last.path, buf);
    return writes.at(-2)?.batchesThrough ?? 0;
  }
  const cut = headBytes + Math.floor(damage.at * (last.size - headBytes));
  if (damage.kind === "truncate") await truncate(last.path, cut);
  else {
    const buf = await readFile(last.path);
    buf.fill(0, cut);
    await writeFile(last.path, buf);
  }
  const survivors = writes.filter((write) => write.after.path !== last.path || write.after.size <= cut);
  return survivors.at(-1)?.batchesThrough ?? 0;
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}
