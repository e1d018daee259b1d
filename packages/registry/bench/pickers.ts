/**
 * Picker cost of @keyway/registry: nanoseconds per pick for each policy at 10 and 1,000 instances,
 * three ways: the policy's `Picker.pick` alone over ready candidates ("picker"), through the
 * `Balancer` that `discovery.pick()` uses (call statistics and the down-instance policy: "balancer"),
 * and the balancer's pick followed by `report()` ("pick+report"). Each policy runs in its own
 * child process so the JIT sees one picker class at each call site, as a real caller does.
 * Every figure is the median of RUNS timed runs of PICKS picks each, after a warm-up.
 * Run: pnpm --filter @keyway/registry bench:pickers   Prints a Markdown table.
 */
import { fork } from "node:child_process";
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
// The balancer is internal to the package (discovery.pick() runs through it), so the bench
// compiles the package's sources alongside itself instead of importing the built package.
import { Balancer } from "../src/balancer.js";
import type { Instance } from "../src/instance.js";
import { type Candidate, createInstancePicker, type PickerName } from "../src/pickers.js";

const POLICIES: readonly PickerName[] = [
  "round-robin",
  "random",
  "least-outstanding",
  "weighted-round-robin",
  "p2c-ewma",
];
const SIZES = [10, 1000] as const;
const MODES = ["picker", "balancer", "pick+report"] as const;
type Mode = (typeof MODES)[number];

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    policy: { type: "string" },
    runs: { type: "string", default: "5" },
    picks: { type: "string", default: "200000" },
  },
});
const RUNS = Number(values.runs);
const PICKS = Number(values.picks);

function instance(i: number): Instance {
  return {
    service: "bench",
    id: `instance-${String(i).padStart(5, "0")}`,
    address: `10.0.${i >> 8}.${i & 255}:50051`,
    ports: {},
    metadata: {},
    weight: 1 + (i % 5),
    zone: `zone-${i % 3}`,
    version: undefined,
    status: "up",
    registeredAt: "",
  };
}

/** One timing loop: `step` runs `picks` times; returns ns per step (and a sink against dead code). */
type Step = () => number;

/** Builds the step of one (policy, size, mode): what one caller-side pick costs. */
function stepOf(policy: PickerName, size: number, mode: Mode): Step {
  const instances = Array.from({ length: size }, (_, i) => instance(i));
  if (mode === "picker") {
    const picker = createInstancePicker(policy);
    // Latencies differ so p2c compares real costs; nothing is in flight.
    const candidates: Candidate[] = instances.map((inst, i) => ({
      instance: inst,
      inflight: 0,
      latencyMs: 1 + (i % 7),
    }));
    return () => picker.pick(candidates)?.instance.weight ?? 0;
  }
  const balancer = new Balancer(createInstancePicker(policy));
  if (mode === "balancer")
    return () => {
      // Never reported: in-flight counts grow evenly, which no policy here minds over a run.
      const picked = balancer.pick(instances);
      return picked?.instance.weight ?? 0;
    };
  let latency = 0;
  return () => {
    const picked = balancer.pick(instances);
    latency = (latency + 1) % 7;
    picked?.report({ ok: true, latencyMs: 1 + latency });
    return picked?.instance.weight ?? 0;
  };
}

/** Minor GCs seen while `fn` runs (a sign of allocation per pick). */
async function countingMinorGcs(fn: () => void): Promise<number> {
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      if (
        (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MINOR
      )
        minor++;
  });
  observer.observe({ entryTypes: ["gc"] });
  fn();
  // GC entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return minor;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

interface Row {
  policy: PickerName;
  size: number;
  mode: Mode;
  nsPerPick: number;
  minorGcsPerMillion: number;
}

async function measure(policy: PickerName, size: number, mode: Mode): Promise<Row> {
  const step = stepOf(policy, size, mode);
  let sink = 0;
  for (let i = 0; i < PICKS; i++) sink += step(); // warm-up: let the JIT settle
  const runs: number[] = [];
  let gcs = 0;
  for (let r = 0; r < RUNS; r++) {
    gcs += await countingMinorGcs(() => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < PICKS; i++) sink += step();
      runs.push(Number(process.hrtime.bigint() - start) / PICKS);
    });
  }
  if (sink < 0) console.error(sink); // never true; keeps `sink` alive
  return { policy, size, mode, nsPerPick: median(runs), minorGcsPerMillion: (gcs / (RUNS * PICKS)) * 1e6 };
}

/** Runs one policy's rows in this process and sends them to the parent. */
async function child(policy: PickerName): Promise<void> {
  const rows: Row[] = [];
  for (const size of SIZES) for (const mode of MODES) rows.push(await measure(policy, size, mode));
  process.send?.(rows);
}

function runChild(policy: PickerName): Promise<Row[]> {
  const script = fileURLToPath(import.meta.url);
  const proc = fork(script, ["--policy", policy, "--runs", String(RUNS), "--picks", String(PICKS)]);
  return new Promise((resolve, reject) => {
    let rows: Row[] | undefined;
    proc.on("message", (message) => {
      rows = message as Row[];
    });
    proc.on("error", reject);
    proc.on("exit", (code) =>
      rows === undefined ? reject(new Error(`${policy} exited with ${code}`)) : resolve(rows),
    );
  });
}

function table(rows: readonly Row[]): string {
  const cell = (policy: PickerName, size: number, mode: Mode) => {
    const row = rows.find((r) => r.policy === policy && r.size === size && r.mode === mode);
    return row === undefined ? "-" : `${row.nsPerPick.toFixed(0)} (${row.minorGcsPerMillion.toFixed(0)})`;
  };
  const header = SIZES.flatMap((n) => MODES.map((m) => `${m}, n=${n}`));
  const lines = [`| policy | ${header.join(" | ")} |`, `| --- |${header.map(() => " --- |").join("")}`];
  for (const policy of POLICIES)
    lines.push(`| ${policy} | ${SIZES.flatMap((n) => MODES.map((m) => cell(policy, n, m))).join(" | ")} |`);
  return lines.join("\n");
}

if (values.policy !== undefined) await child(values.policy as PickerName);
else {
  const rows: Row[] = [];
  for (const policy of POLICIES) rows.push(...(await runChild(policy)));
  console.log(`ns per pick, median of ${RUNS} runs of ${PICKS} picks (minor GCs per 1M picks)\n`);
  console.log(table(rows));
}
