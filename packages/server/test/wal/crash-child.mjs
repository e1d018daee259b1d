// Child process of crash.test.ts: appends entries forever from many concurrent appenders and
// prints each acknowledged index on stdout (a pipe: writes are synchronous on Linux, so a line the
// parent read was acknowledged before the kill). Runs the built WAL: `pnpm exec tsc -b` first.
// Usage: node crash-child.mjs <dir> <concurrency> <segmentSizeBytes>
import { Wal } from "../../dist/wal/index.js";

const [dir, concurrency, segmentSizeBytes] = process.argv.slice(2);
const { wal, replay } = await Wal.open({ dir, segmentSizeBytes: Number(segmentSizeBytes) });
let next = (replay.entries.at(-1)?.index ?? 0) + 1;

async function appender() {
  for (;;) {
    const index = next++;
    const data = Buffer.alloc(300, index % 251);
    // Every 16th append also records a hard state, as Raft would with its commit index.
    const hardState = index % 16 === 0 ? { hardState: { term: 1, vote: 1n, commit: index } } : {};
    await wal.append({ entries: [{ index, term: 1, data }], ...hardState });
    process.stdout.write(`${index}\n`);
  }
}

for (let i = 0; i < Number(concurrency); i++) void appender();
