// WAL throughput: appends/s and fdatasyncs/s with N concurrent appenders of 300-byte entries.
// Runs the built WAL: `pnpm exec tsc -b`, then
//   node packages/server/test/wal/wal-bench.mjs [seconds=3] [concurrency...=1 1000]
// Numbers are machine-dependent; nothing here asserts a timing.
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wal } from "../../dist/wal/index.js";

const seconds = Number(process.argv[2] ?? 3);
const concurrencies = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1, 1000];

async function run(concurrency) {
  const dir = await mkdtemp(join(tmpdir(), "keyway-wal-bench-"));
  try {
    const { wal } = await Wal.open({ dir });
    const data = Buffer.alloc(300, 7);
    const latenciesMs = [];
    const endMs = performance.now() + seconds * 1000;
    let next = 1;
    const appender = async () => {
      while (performance.now() < endMs) {
        const startMs = performance.now();
        await wal.append({ entries: [{ index: next++, term: 1, data }] });
        latenciesMs.push(performance.now() - startMs);
      }
    };
    const startMs = performance.now();
    await Promise.all(Array.from({ length: concurrency }, appender));
    const elapsedS = (performance.now() - startMs) / 1000;
    const { appends, writes, fsyncs } = wal.stats;
    await wal.close();
    latenciesMs.sort((a, b) => a - b);
    const pct = (p) =>
      latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(p * latenciesMs.length))].toFixed(3);
    console.log(
      `concurrency ${String(concurrency).padStart(5)}: ${Math.round(appends / elapsedS)} appends/s, ` +
        `${Math.round(fsyncs / elapsedS)} fsyncs/s, ${(appends / writes).toFixed(1)} appends/write, ` +
        `latency p50 ${pct(0.5)} ms p99 ${pct(0.99)} ms`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The floor for one appender: a bare 300-byte positioned write + fdatasync loop on a plain file. */
async function baseline() {
  const dir = await mkdtemp(join(tmpdir(), "keyway-wal-bench-"));
  try {
    const fh = await open(join(dir, "baseline"), "w");
    const data = Buffer.alloc(300, 7);
    const endMs = performance.now() + seconds * 1000;
    let syncs = 0;
    for (; performance.now() < endMs; syncs++) {
      await fh.write(data, 0, data.length, syncs * data.length);
      await fh.datasync();
    }
    await fh.close();
    console.log(`baseline: ${Math.round(syncs / seconds)} bare write+fdatasync/s`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await baseline();
for (const concurrency of concurrencies) await run(concurrency);
