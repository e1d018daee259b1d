/**
 * `pnpm --filter @keyway/raft run sim -- --seeds N --events M`: runs N seeds of M fault-phase events
 * each, spread over worker threads, and ends with "N passed, K failed". Seeds alternate between 3 and
 * 5 members. `--seed S` replays one seed and prints its trace; any printed seed replays exactly.
 * Options: `--start S` (first seed), `--workers W`, `--verbose` (a line per seed), `--debug 1|2`
 * (trace the core's debug lines / every delivered message), `--trace L` (trace lines kept).
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { cliArgs } from "./cli-args.js";
import type { SimResult } from "./run.js";
import { runSimulation } from "./run.js";

interface Job {
  readonly seeds: readonly number[];
  readonly events: number;
  readonly debug: number;
  readonly traceLines: number;
}

/** Seeds alternate between 3- and 5-member clusters. */
export function membersForSeed(seed: number): number {
  return seed % 2 === 0 ? 3 : 5;
}

function runJob(job: Job): SimResult[] {
  const { events, debug, traceLines } = job;
  return job.seeds.map((seed) =>
    runSimulation({ seed, members: membersForSeed(seed), events, debug, traceLines }),
  );
}

function describe(r: SimResult): string {
  const s = r.stats;
  return `seed ${r.seed} (${r.members} members): ${r.ok ? "ok" : "FAILED"} events=${s.events} ticks=${s.ticks} leaders=${s.leaders} applied=${s.applied} proposals=${s.proposals} reads=${s.reads} crashes=${s.crashes} partitions=${s.partitions} confChanges=${s.confChanges} transfers=${s.transfers} messages=${s.messages} dropped=${s.dropped} duplicated=${s.duplicated} recovery=${r.recoveryTicks} ticks`;
}

async function runParallel(seeds: number[], job: Omit<Job, "seeds">, workers: number): Promise<SimResult[]> {
  const chunks: number[][] = Array.from({ length: workers }, () => []);
  for (const [i, seed] of seeds.entries()) chunks[i % workers]!.push(seed);
  const results = await Promise.all(
    chunks
      .filter((c) => c.length > 0)
      .map(
        (chunk) =>
          new Promise<SimResult[]>((resolve, reject) => {
            const worker = new Worker(new URL(import.meta.url), {
              workerData: { ...job, seeds: chunk } satisfies Job,
            });
            worker.once("message", resolve);
            worker.once("error", reject);
          }),
      ),
  );
  return results.flat().sort((a, b) => a.seed - b.seed);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: {
      seeds: { type: "string", default: "20" },
      events: { type: "string", default: "2000" },
      start: { type: "string", default: "1" },
      seed: { type: "string" },
      workers: { type: "string", default: String(Math.max(1, availableParallelism())) },
      verbose: { type: "boolean", default: false },
      debug: { type: "string", default: "0" },
      trace: { type: "string", default: "400" },
    },
  });
  const events = Number(values.events);
  const started = performance.now();
  let seeds: number[];
  if (values.seed !== undefined) seeds = [Number(values.seed)];
  else seeds = Array.from({ length: Number(values.seeds) }, (_, i) => Number(values.start) + i);
  const job = { events, debug: Number(values.debug), traceLines: Number(values.trace) };
  const results =
    seeds.length === 1 ? runJob({ ...job, seeds }) : await runParallel(seeds, job, Number(values.workers));
  let failed = 0;
  for (const r of results) {
    if (!r.ok) failed++;
    if (values.verbose || !r.ok || seeds.length === 1) console.log(describe(r));
    if (!r.ok) {
      console.log(`  ${r.error}`);
      if (seeds.length === 1 || failed === 1) for (const line of r.trace ?? []) console.log(`  | ${line}`);
      console.log(`  replay: pnpm --filter @keyway/raft run sim -- --seed ${r.seed} --events ${events}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const totalEvents = results.reduce((n, r) => n + r.stats.events, 0);
  console.log(
    `${totalEvents} events in ${seconds.toFixed(1)} s (${Math.round(totalEvents / seconds)} events/s)`,
  );
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

if (isMainThread) {
  await main();
} else {
  parentPort!.postMessage(runJob(workerData as Job));
}
