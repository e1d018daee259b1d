// Measures apply and range costs of the built state machine (run `pnpm exec tsc -b` first):
//   node --expose-gc packages/server/test/mvcc/bench.mjs [keys=100000] [batch=100] [rounds=2]
// Round 1 creates the keys, later rounds overwrite them (more revisions per key).
// Prints numbers only; nothing here asserts on timing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StateMachine } from "../../dist/apply/index.js";

const keys = Number(process.argv[2] ?? 100_000);
const batchSize = Number(process.argv[3] ?? 100);
const rounds = Number(process.argv[4] ?? 2);
const value = Buffer.alloc(256, 0x61);
const key = (i) => Buffer.from(`key-${String(i).padStart(8, "0")}`);
const put = (i, index) => ({
  index,
  request: {
    id: BigInt(index),
    request: {
      $case: "put",
      put: { key: key(i), value, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false },
    },
  },
});
const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
const gc = () => globalThis.gc?.();

const dir = mkdtempSync(join(tmpdir(), "keyway-bench-"));
let sm = StateMachine.open({ dir, minLeaseTtlSeconds: 2 });
gc();
const rssBefore = process.memoryUsage().rss;

let index = 1;
let started = performance.now();
for (let i = 0; i < keys; i += batchSize) {
  const entries = [];
  for (let j = i; j < Math.min(i + batchSize, keys); j++) entries.push(put(j, index++));
  sm.applyBatch(entries);
}
let ms = performance.now() - started;
console.log(
  `apply: ${keys} puts (256 B values) in batches of ${batchSize}: ${ms.toFixed(0)} ms, ` +
    `${((ms * 1000) / keys).toFixed(2)} µs/entry, ${((ms * batchSize) / keys).toFixed(3)} ms/batch`,
);

for (let round = 2; round <= rounds; round++) {
  started = performance.now();
  for (let i = 0; i < keys; i += batchSize) {
    const entries = [];
    for (let j = i; j < Math.min(i + batchSize, keys); j++) entries.push(put(j, index++));
    sm.applyBatch(entries);
  }
  ms = performance.now() - started;
  console.log(
    `apply: ${keys} overwrites in batches of ${batchSize}: ${((ms * 1000) / keys).toFixed(2)} µs/entry`,
  );
}

const rangeOne = (i) => ({
  key: key(i),
  rangeEnd: Buffer.alloc(0),
  limit: 0n,
  revision: 0n,
  sortOrder: 0,
  sortTarget: 0,
  serializable: true,
  keysOnly: false,
  countOnly: false,
  minModRevision: 0n,
  maxModRevision: 0n,
  minCreateRevision: 0n,
  maxCreateRevision: 0n,
});
const reads = 200_000;
started = performance.now();
for (let n = 0; n < reads; n++) sm.range(rangeOne((n * 7919) % keys));
ms = performance.now() - started;
console.log(
  `range of 1 key: ${(reads / (ms / 1000)).toFixed(0)} ranges/s (${((ms * 1000) / reads).toFixed(2)} µs each)`,
);

const r100 = { ...rangeOne(0), key: key(5000), rangeEnd: key(5100) };
started = performance.now();
for (let n = 0; n < 10_000; n++) sm.range(r100);
ms = performance.now() - started;
console.log(`range of 100 keys: ${((ms * 1000) / 10_000).toFixed(1)} µs each`);

const limit10 = { ...rangeOne(0), rangeEnd: Buffer.from([0]), limit: 10n };
started = performance.now();
for (let n = 0; n < 200; n++) sm.range(limit10);
ms = performance.now() - started;
console.log(`range from-key limit 10 over ${keys} keys (count walks all): ${(ms / 200).toFixed(2)} ms each`);

gc();
const mem = process.memoryUsage();
console.log(
  `memory with ${keys} keys x ${rounds} revisions: rss +${mb(mem.rss - rssBefore)} MB (total ${mb(mem.rss)} MB), ` +
    `heapUsed ${mb(mem.heapUsed)} MB, db ${mb(sm.dbSize().totalBytes)} MB`,
);

await sm.close();
started = performance.now();
sm = StateMachine.open({ dir, minLeaseTtlSeconds: 2 });
console.log(
  `reopen (index rebuild from ${rounds * keys} revisions): ${(performance.now() - started).toFixed(0)} ms`,
);
started = performance.now();
await sm.sync();
console.log(`sync: ${(performance.now() - started).toFixed(1)} ms`);

const compactAt = sm.currentRevision - 1;
started = performance.now();
sm.applyBatch([
  {
    index: index++,
    request: {
      id: 1n,
      request: { $case: "compaction", compaction: { revision: BigInt(compactAt), physical: true } },
    },
  },
]);
await sm.compacted(compactAt);
console.log(
  `compaction of ${(rounds - 1) * keys} superseded revisions: ${(performance.now() - started).toFixed(0)} ms`,
);
await sm.close();
rmSync(dir, { recursive: true, force: true });
