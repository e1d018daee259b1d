/**
 * Prints the Markdown table of convergence.sh from the JSON lines convergence.js wrote for each
 * target (one line per pass): the median over passes of each figure, and the Keyway / etcd ratio.
 * Usage: node convergence-table.js <etcd.jsonl> <keyway.jsonl>
 */
import { readFileSync } from "node:fs";

interface Summary {
  p50: number;
  p99: number;
  max: number;
}
interface Pass {
  instances: number;
  clients: number;
  discovererProcesses: number;
  ttlSeconds: number;
  registerToAllSeen: Summary;
  registerCallToAllSeen: Summary;
  closeToAllDropped: Summary;
  killToAllDropped: Summary;
  backgroundChurn: { reRegistrations: number; causes: Record<string, number>; errors: number };
}

const [etcdFile, keywayFile] = process.argv.slice(2);
if (etcdFile === undefined || keywayFile === undefined) throw new Error("usage: <etcd.jsonl> <keyway.jsonl>");
const passesOf = (file: string): Pass[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Pass);
const etcd = passesOf(etcdFile);
const keyway = passesOf(keywayFile);

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

const first = keyway[0] ?? etcd[0];
if (first === undefined) throw new Error("no pass finished");
const ttlMs = first.ttlSeconds * 1000;
const rows: Array<[string, (p: Pass) => number]> = [
  ["register() returned → all clients saw it, p50", (p) => p.registerToAllSeen.p50],
  ["register() returned → all clients saw it, p99", (p) => p.registerToAllSeen.p99],
  ["register() called → all clients saw it, p50", (p) => p.registerCallToAllSeen.p50],
  ["register() called → all clients saw it, p99", (p) => p.registerCallToAllSeen.p99],
  ["close() (revoke) → all clients dropped it, p50", (p) => p.closeToAllDropped.p50],
  ["close() (revoke) → all clients dropped it, p99", (p) => p.closeToAllDropped.p99],
  ["kill -9 → all clients dropped it, p50", (p) => p.killToAllDropped.p50],
  [
    `kill -9 → all clients dropped it, p50 minus the TTL (${first.ttlSeconds} s)`,
    (p) => p.killToAllDropped.p50 - ttlMs,
  ],
  ["kill -9 → all clients dropped it, max", (p) => p.killToAllDropped.max],
];

console.log(
  `${first.instances} instances, ${first.clients} discovering clients in ${first.discovererProcesses} processes; ` +
    `ms, median of ${etcd.length} (etcd) / ${keyway.length} (Keyway) passes\n`,
);
console.log("| figure (ms) | etcd 3.4 | Keyway | Keyway / etcd |");
console.log("| --- | --- | --- | --- |");
for (const [name, get] of rows) {
  const e = median(etcd.map(get));
  const k = median(keyway.map(get));
  // A ratio of a negative figure (the event beat the put's answer) means nothing.
  const ratio = e > 0 && k > 0 ? (k / e).toFixed(2) : "-";
  console.log(`| ${name} | ${e.toFixed(1)} | ${k.toFixed(1)} | ${ratio} |`);
}
console.log(
  `\npasses (etcd then Keyway, kill p50): ${[...etcd, ...keyway].map((p) => p.killToAllDropped.p50).join(", ")}`,
);
// Background instances written again during a pass mean it was not in a steady state.
const churn = (passes: Pass[]) =>
  passes
    .map(
      (p) =>
        `${p.backgroundChurn.reRegistrations}/${p.backgroundChurn.errors} ${JSON.stringify(p.backgroundChurn.causes)}`,
    )
    .join(", ");
console.log(`background re-registrations/errors per pass: etcd ${churn(etcd)}; Keyway ${churn(keyway)}`);
