import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Wal } from "../../src/wal/index.js";
import { entries, entry, memoryLogger, segmentFiles, summary, tempDir } from "./helpers.js";

describe("Wal append and replay", () => {
  it("creates the directory and a first segment; a new WAL replays nothing", async () => {
    const dir = `${await tempDir()}/nested/wal`;
    const { wal, replay } = await Wal.open({ dir, metadata: Buffer.from("m1") });
    await wal.close();
    expect(replay).toEqual({ metadata: undefined, hardState: undefined, snapshot: undefined, entries: [] });
    expect(await segmentFiles(dir)).toEqual(["0000000000000000-0000000000000001.wal"]);
  });

  it("replays metadata, entries, hard state and snapshot after reopen", async () => {
    const dir = await tempDir();
    {
      const { wal } = await Wal.open({ dir, metadata: Buffer.from("member=1") });
      await wal.append({ entries: entries(1, 3) });
      await wal.append({ entries: [entry(4, 2)], hardState: { term: 2, vote: 2n ** 63n + 5n, commit: 4 } });
      await wal.close();
    }
    await using opened = await reopen(dir, { metadata: Buffer.from("ignored: the WAL keeps its own") });
    expect(Buffer.from(opened.replay.metadata!).toString()).toBe("member=1");
    expect(opened.replay.hardState).toEqual({ term: 2, vote: 2n ** 63n + 5n, commit: 4 });
    expect(opened.replay.snapshot).toBeUndefined();
    expect(summary(opened.replay.entries)).toEqual(summary([...entries(1, 3), entry(4, 2)]));
  });

  it("keeps membership changes apart from commands, and the membership in snapshot markers", async () => {
    const dir = await tempDir();
    const confState = { voters: [1n, 2n ** 64n - 1n, 3n], learners: [9n] };
    {
      const { wal } = await Wal.open({ dir });
      await wal.append({ snapshot: { index: 0, term: 0, confState } });
      await wal.append({ entries: [entry(1, 1), { ...entry(2, 1), confChange: true }, entry(3, 1)] });
      await wal.close();
    }
    await using opened = await reopen(dir);
    expect(opened.replay.snapshot).toEqual({ index: 0, term: 0, confState });
    expect(opened.replay.entries.map((e) => e.confChange === true)).toEqual([false, true, false]);
    await opened.wal.append({ snapshot: { index: 2, term: 1 } });
    await opened.wal.close();
    // A marker without a membership (written before clusters) still reads back.
    await using again = await reopen(dir);
    expect(again.replay.snapshot).toEqual({ index: 2, term: 1 });
    expect(again.replay.entries.map((e) => e.index)).toEqual([3]);
  });

  it("keeps appending after reopen", async () => {
    const dir = await tempDir();
    const first = await Wal.open({ dir });
    await first.wal.append({ entries: entries(1, 5) });
    await first.wal.close();
    const second = await Wal.open({ dir });
    await second.wal.append({ entries: entries(6, 8) });
    await second.wal.close();
    await using third = await reopen(dir);
    expect(summary(third.replay.entries)).toEqual(summary(entries(1, 8)));
  });

  it("lets a later write of an index replace it and truncate the rest (Raft)", async () => {
    const dir = await tempDir();
    {
      const { wal } = await Wal.open({ dir });
      await wal.append({ entries: entries(1, 6, 1) });
      await wal.append({ entries: entries(4, 5, 2) });
      await wal.append({ entries: [entry(6, 3)] });
      await wal.close();
    }
    await using opened = await reopen(dir);
    expect(summary(opened.replay.entries)).toEqual(
      summary([...entries(1, 3, 1), ...entries(4, 5, 2), entry(6, 3)]),
    );
  });

  it("drops entries covered by a snapshot marker; entries continue after it", async () => {
    const dir = await tempDir();
    {
      const { wal } = await Wal.open({ dir });
      await wal.append({ entries: entries(1, 10) });
      await wal.append({ snapshot: { index: 7, term: 1 }, entries: [entry(11)] });
      await wal.append({ snapshot: { index: 20, term: 3 } }); // a snapshot from a leader, past our log
      await wal.append({ entries: entries(21, 22, 3) });
      await wal.close();
    }
    await using opened = await reopen(dir);
    expect(opened.replay.snapshot).toEqual({ index: 20, term: 3 });
    expect(summary(opened.replay.entries)).toEqual(summary(entries(21, 22, 3)));
  });

  it("rejects a segment size that is not a positive integer, and leaves no lock behind", async () => {
    const dir = await tempDir();
    await expect(Wal.open({ dir, segmentSizeBytes: 0 })).rejects.toThrow("segmentSizeBytes 0");
    const { wal } = await Wal.open({ dir });
    await wal.close();
  });

  it("rejects appends that would not replay, and writes nothing for them", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir });
    await wal.append({ entries: entries(1, 3) });
    await expect(wal.append({ entries: [entry(5)] })).rejects.toThrow("entry 5 leaves a gap after 3");
    await expect(wal.append({ entries: [entry(4), entry(6)] })).rejects.toThrow("follows entry 4");
    await expect(wal.append({ entries: [entry(0)] })).rejects.toThrow(RangeError);
    await expect(wal.append({ entries: [{ index: 4, term: 1.5, data: Buffer.alloc(0) }] })).rejects.toThrow(
      "entry term 1.5",
    );
    await expect(wal.append({ hardState: { term: 1, vote: -1n, commit: 0 } })).rejects.toThrow("vote");
    await wal.append({ snapshot: { index: 2, term: 1 } });
    await expect(wal.append({ entries: [entry(2)] })).rejects.toThrow("covered by snapshot 2");
    await expect(wal.append({ snapshot: { index: 1, term: 1 } })).rejects.toThrow("older than snapshot 2");
    await wal.append({ entries: [entry(4)] });
    await wal.close();
    await expect(wal.append({ entries: [entry(5)] })).rejects.toThrow("append after close");
    await using opened = await reopen(dir);
    expect(summary(opened.replay.entries)).toEqual(summary([entry(3), entry(4)]));
  });
});

describe("Wal group commit", () => {
  it("coalesces concurrent appends into fewer writes and fsyncs, in call order", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir });
    const count = 500;
    const done: number[] = [];
    await Promise.all(
      entries(1, count).map((e) => wal.append({ entries: [e] }).then(() => done.push(e.index))),
    );
    const stats = wal.stats;
    await wal.close();
    expect(stats.appends).toBe(count);
    expect(stats.writes).toBeLessThan(count / 10);
    expect(stats.fsyncs).toBe(stats.writes);
    expect(done).toEqual(entries(1, count).map((e) => e.index));
    await using opened = await reopen(dir);
    expect(summary(opened.replay.entries)).toEqual(summary(entries(1, count)));
  });

  it("writes appends made while a write is in flight together in the next write", async () => {
    const dir = await tempDir();
    const fsyncSeconds: number[] = [];
    const { wal } = await Wal.open({ dir, onFsync: (seconds) => fsyncSeconds.push(seconds) });
    const first = wal.append({ entries: [entry(1)] });
    await Promise.resolve(); // let the first write start
    await Promise.resolve();
    const rest = entries(2, 50).map((e) => wal.append({ entries: [e] }));
    await Promise.all([first, ...rest]);
    expect(wal.stats).toMatchObject({ appends: 50, writes: 2, fsyncs: 2 });
    expect(fsyncSeconds).toHaveLength(2);
    expect(fsyncSeconds.every((seconds) => seconds > 0 && seconds < 60)).toBe(true);
    await wal.close();
  });

  it("with O_DSYNC writes: no fdatasync, the same records across segments and reopens", async () => {
    const dir = await tempDir();
    const fsyncSeconds: number[] = [];
    const options = { dir, segmentSizeBytes: 2048, syncMode: "o_dsync" as const };
    const { wal } = await Wal.open({ ...options, onFsync: (seconds) => fsyncSeconds.push(seconds) });
    for (let i = 1; i <= 40; i += 4) await wal.append({ entries: entries(i, i + 3, 1, 100) });
    expect(wal.stats.segmentsCreated).toBeGreaterThan(1);
    expect(wal.stats.writes).toBe(10);
    expect(fsyncSeconds).toHaveLength(10);
    const last = (await segmentFiles(dir)).at(-1) as string;
    expect((await openFlags(join(dir, last))) & constants.O_DSYNC).toBe(constants.O_DSYNC);
    await wal.close();
    const again = await Wal.open(options);
    expect((await openFlags(join(dir, last))) & constants.O_DSYNC).toBe(constants.O_DSYNC);
    await again.wal.append({ entries: [entry(41)] });
    await again.wal.close();
    await using opened = await reopen(dir);
    expect(summary(opened.replay.entries)).toEqual(summary([...entries(1, 40, 1, 100), entry(41)]));
  });

  it("splits a burst into writes of at most 8 MiB, and copies data before append returns", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir });
    const data = Buffer.alloc(5 * 1024 * 1024, 1);
    const done = [1, 2, 3].map((index) => wal.append({ entries: [{ index, term: 1, data }] }));
    data.fill(2); // too late to change what was appended
    await Promise.all(done);
    expect(wal.stats).toMatchObject({ appends: 3, writes: 3 });
    await wal.close();
    await using opened = await reopen(dir);
    expect(
      opened.replay.entries.map((e) => Buffer.from(e.data).equals(Buffer.alloc(data.length, 1))),
    ).toEqual([true, true, true]);
  });

  it("an empty append writes nothing and resolves after the appends before it", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir });
    const order: string[] = [];
    const first = wal.append({ entries: [entry(1)] }).then(() => order.push("entry"));
    await wal.append({}).then(() => order.push("empty"));
    await first;
    expect(order).toEqual(["entry", "empty"]);
    expect(wal.stats).toMatchObject({ appends: 2, writes: 1, fsyncs: 1 });
    await wal.close();
  });

  it("close() waits for queued appends to be durable", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir });
    const pending = entries(1, 100).map((e) => wal.append({ entries: [e] }));
    await wal.close();
    await Promise.all(pending);
    await using opened = await reopen(dir);
    expect(opened.replay.entries).toHaveLength(100);
  });
});

describe("Wal directory lock", () => {
  it("refuses a second open of the same directory until the first is closed", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir });
    await expect(Wal.open({ dir })).rejects.toThrow("is already open in this process");
    await wal.close();
    const again = await Wal.open({ dir });
    await again.wal.close();
  });

  it("refuses a directory locked by a running process and takes over a dead one's lock", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "wal.lock"), `${process.ppid}\n`);
    await expect(Wal.open({ dir })).rejects.toThrow(`is in use by process ${process.ppid}`);
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.once("exit", resolve));
    await writeFile(join(dir, "wal.lock"), `${dead.pid}\n`);
    const { wal } = await Wal.open({ dir });
    expect(await readFile(join(dir, "wal.lock"), "utf8")).toBe(`${process.pid}\n`);
    await wal.close();
    await expect(readFile(join(dir, "wal.lock"))).rejects.toThrow("ENOENT");
  });
});

describe("Wal write failures", () => {
  it("rejects the failed append and every later one; reopening recovers what was durable", async () => {
    const dir = await tempDir();
    // 32 head bytes + 340 bytes per append: the fifth append fills the first segment past 1500.
    const { wal } = await Wal.open({ dir, segmentSizeBytes: 1500 });
    for (let i = 1; i <= 5; i++) await wal.append({ entries: [entry(i, 1, 300)] });
    // The next segment's temp file is a link to /dev/full: creating it fails with ENOSPC.
    const next = `0000000000000001-${(6).toString(16).padStart(16, "0")}.wal.tmp`;
    await symlink("/dev/full", join(dir, next));
    const failed = wal.append({ entries: [entry(6, 1, 300)] });
    const queued = wal.append({ entries: [entry(7, 1, 300)] });
    await expect(failed).rejects.toThrow("wal: write failed; reopen the WAL to recover");
    await expect(failed.catch((e: Error) => (e.cause as NodeJS.ErrnoException).code)).resolves.toBe("ENOSPC");
    await expect(queued).rejects.toThrow("wal: write failed");
    await expect(wal.append({ entries: [entry(6)] })).rejects.toThrow("wal: write failed");
    await wal.close();
    await using opened = await reopen(dir);
    expect(summary(opened.replay.entries)).toEqual(summary(entries(1, 5, 1, 300)));
    expect(await segmentFiles(dir)).toHaveLength(1);
  });
});

describe("Wal segments", () => {
  it("rolls over to new segments and replays across them", async () => {
    const dir = await tempDir();
    const logger = memoryLogger();
    const { wal } = await Wal.open({ dir, segmentSizeBytes: 4096, logger, metadata: Buffer.from("m") });
    for (let i = 1; i <= 100; i++) await wal.append({ entries: [entry(i, 1, 200)], hardState: hs(i) });
    expect(wal.stats.segmentsCreated).toBeGreaterThan(3);
    await wal.close();
    const files = await segmentFiles(dir);
    expect(files.length).toBe(wal.stats.segmentsCreated + 1);
    expect(files.map((f) => Number.parseInt(f.slice(0, 16), 16))).toEqual(files.map((_, i) => i));
    // firstIndex in a name is the index expected next when the segment started: the first segment
    // (33 head bytes, 276 bytes per append) reaches 4096 bytes after 15 appends, so 16 = 0x10.
    expect(files[1]).toBe("0000000000000001-0000000000000010.wal");
    await using opened = await reopen(dir);
    expect(summary(opened.replay.entries)).toEqual(summary(entries(1, 100, 1, 200)));
    expect(opened.replay.hardState).toEqual(hs(100));
    expect(Buffer.from(opened.replay.metadata!).toString()).toBe("m");
    expect(logger.lines.filter((l) => l.msg === "wal: started segment")).toHaveLength(files.length - 1);
  });

  it("releaseBefore deletes only old segments covered by a durable snapshot marker", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir, segmentSizeBytes: 4096 });
    for (let i = 1; i <= 100; i++) await wal.append({ entries: [entry(i, 1, 200)], hardState: hs(i) });
    const before = await segmentFiles(dir);
    await wal.releaseBefore(60); // no snapshot yet: nothing may go
    expect(await segmentFiles(dir)).toEqual(before);
    await wal.append({ snapshot: { index: 59, term: 1 } });
    await wal.releaseBefore(60);
    const after = await segmentFiles(dir);
    expect(after.length).toBeLessThan(before.length);
    expect(after).toEqual(before.slice(before.length - after.length));
    await wal.append({ entries: [entry(101)] });
    await wal.close();
    await using opened = await reopen(dir);
    expect(opened.replay.snapshot).toEqual({ index: 59, term: 1 });
    expect(opened.replay.hardState).toEqual(hs(100));
    expect(summary(opened.replay.entries)).toEqual(summary([...entries(60, 100, 1, 200), entry(101)]));
  });

  it("releaseBefore never deletes the current segment", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir });
    await wal.append({ entries: entries(1, 10), snapshot: { index: 0, term: 0 } });
    await wal.append({ snapshot: { index: 10, term: 1 } });
    await wal.releaseBefore(11);
    expect(await segmentFiles(dir)).toHaveLength(1);
    await wal.close();
  });

  it("replays after releasing segments whose head carried an older snapshot marker", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open({ dir, segmentSizeBytes: 2048 });
    await wal.append({ snapshot: { index: 3, term: 1 }, entries: entries(4, 30, 1, 150) });
    await wal.append({ entries: entries(31, 40, 1, 150) });
    await wal.append({ snapshot: { index: 35, term: 1 } });
    await wal.releaseBefore(36);
    await wal.close();
    await using opened = await reopen(dir);
    expect(summary(opened.replay.entries)).toEqual(summary(entries(36, 40, 1, 150)));
  });
});

function hs(commit: number) {
  return { term: 1, vote: 1n, commit };
}

/** The open flags of this process's descriptor of `path` (Linux /proc). */
async function openFlags(path: string): Promise<number> {
  for (const fd of await readdir("/proc/self/fd")) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => "");
    if (target !== path) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, "utf8");
    return Number.parseInt(/flags:\s+([0-7]+)/.exec(info)?.[1] ?? "0", 8);
  }
  throw new Error(`${path} is not open`);
}

/** Opens `dir` again; the result closes the WAL on dispose. */
async function reopen(dir: string, options: { metadata?: Uint8Array } = {}) {
  const { wal, replay } = await Wal.open({ dir, ...options });
  return { wal, replay, [Symbol.asyncDispose]: () => wal.close() };
}
