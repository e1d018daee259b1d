import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Wal } from "../../src/wal/index.js";
import { segmentFiles, tempDir } from "./helpers.js";

const child = fileURLToPath(new URL("./crash-child.mjs", import.meta.url));
const builtWal = fileURLToPath(new URL("../../dist/wal/index.js", import.meta.url));

/**
 * Runs the child until it has acknowledged `acks` appends, lets it go on for `delayMs`, SIGKILLs
 * it (by its pid) and returns every index it acknowledged, including lines still in the pipe.
 */
async function runAndKill(dir: string, acks: number, delayMs: number): Promise<number[]> {
  const proc = spawn(process.execPath, [child, dir, "200", String(64 * 1024)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const acked: number[] = [];
  let stderr = "";
  let partial = "";
  proc.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const closed = new Promise<number | null>((resolve) => proc.once("close", resolve));
  await new Promise<void>((resolve, reject) => {
    void closed.then((code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
    proc.stdout.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop()!;
      for (const line of lines) acked.push(Number(line));
      if (acked.length >= acks) resolve();
    });
  });
  await sleep(delayMs);
  proc.kill("SIGKILL");
  await closed;
  return acked;
}

describe("Wal under SIGKILL", () => {
  it("keeps every acknowledged append across repeated kills mid-load", async () => {
    expect(existsSync(builtWal), `${builtWal} is missing: run \`pnpm exec tsc -b\` first`).toBe(true);
    const dir = await tempDir();
    const acked = new Set<number>();
    // Kill at different depths of the load; each run continues the log the previous one left.
    for (const [acks, delayMs] of [
      [700, 0],
      [2500, 3],
      [1300, 11],
    ] as const) {
      for (const index of await runAndKill(dir, acks, delayMs)) acked.add(index);
      const { wal, replay } = await Wal.open({ dir });
      await wal.close();
      const indexes = replay.entries.map((e) => e.index);
      expect(indexes).toEqual(indexes.map((_, k) => k + 1));
      expect([...acked].filter((index) => index > indexes.length)).toEqual([]);
      const damaged = replay.entries.filter(
        (e) => !Buffer.from(e.data).equals(Buffer.alloc(300, e.index % 251)),
      );
      expect(damaged.map((e) => e.index)).toEqual([]);
      expect(replay.hardState!.commit).toBeLessThanOrEqual(indexes.length);
    }
    expect(acked.size).toBeGreaterThan(4500);
    expect((await segmentFiles(dir)).length).toBeGreaterThan(5);
  });
});
