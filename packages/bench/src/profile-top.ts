#!/usr/bin/env node
/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the top functions by self time, and
 * self time by area (grpc-js, Node's HTTP/2, our server, protobuf codecs, ...), as Markdown.
 * Usage: `node packages/bench/dist/profile-top.js <file.cpuprofile> [top=25]`.
 */
import { readFileSync } from "node:fs";

/** The parts of a `.cpuprofile` this script reads (Chrome DevTools protocol `Profile`). */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** Areas by the first matching fragment of a script's URL; order matters. */
const AREAS: [string, RegExp][] = [
  ["grpc-js", /@grpc\/grpc-js/],
  ["protobuf codecs (@keyway/api)", /packages\/api\//],
  ["keyway server: http2 repair", /packages\/server\/(dist|src)\/http2\//],
  ["keyway server: rpc", /packages\/server\/(dist|src)\/rpc\//],
  ["keyway server: other", /packages\/server\//],
  ["lmdb", /lmdb/],
  ["Node http2", /node:internal\/http2/],
  ["Node streams", /node:internal\/streams|node:stream/],
  ["Node net / stream_base", /node:net|node:internal\/stream_base|node:internal\/js_stream/],
  ["other node_modules", /node_modules/],
  ["other Node internals", /^node:/],
];

function areaOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "native / V8 builtins";
  return AREAS.find(([, pattern]) => pattern.test(url))?.[0] ?? "other";
}

/** Self time in µs per node id. */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return self;
}

/**
 * Time in µs per area counting every sample once for each area anywhere on its stack: how much
 * of the busy time ran inside (or below) that area's code.
 */
function inclusiveByArea(profile: CpuProfile, self: Map<number, number>): Map<string, number> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  for (const [id, us] of self) {
    const areas = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      if (url !== "") areas.add(areaOf(url, functionName));
    }
    for (const area of areas) totals.set(area, (totals.get(area) ?? 0) + us);
  }
  return totals;
}

function table(
  title: string,
  totals: Map<string, number>,
  allUs: number,
  top: number,
  inclusive?: Map<string, number>,
): string {
  const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, top);
  const extra = inclusive === undefined ? ["", ""] : [" inclusive share |", " --- |"];
  const lines = [`| ${title} | self ms | self share |${extra[0]}`, `| --- | --- | --- |${extra[1]}`];
  for (const [name, us] of rows) {
    const share = (value: number) => `${((100 * value) / allUs).toFixed(1)}%`;
    const also = inclusive === undefined ? "" : ` ${share(inclusive.get(name) ?? 0)} |`;
    lines.push(`| ${name} | ${(us / 1000).toFixed(0)} | ${share(us)} |${also}`);
  }
  return lines.join("\n");
}

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: profile-top <file.cpuprofile> [top]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
const self = selfTimes(profile);
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
for (const id of idleIds) self.delete(id);
const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
let allUs = 0;
let idleUs = 0;
for (const { id, callFrame } of profile.nodes) {
  if (idleIds.has(id)) {
    idleUs += profile.samples.reduce(
      (sum, sample, i) => sum + (sample === id ? profile.timeDeltas[i]! : 0),
      0,
    );
    continue;
  }
  const us = self.get(id) ?? 0;
  allUs += us;
  const where = callFrame.url.replace(/^.*\/(node_modules|packages)\//, "").replace(/^file:\/\//, "");
  const name = `${callFrame.functionName || "(anonymous)"} ${where}:${callFrame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const area = areaOf(callFrame.url, callFrame.functionName);
  byArea.set(area, (byArea.get(area) ?? 0) + us);
}
const top = Number(topArg ?? 25);
console.log(`busy ${(allUs / 1000).toFixed(0)} ms, idle ${(idleUs / 1000).toFixed(0)} ms\n`);
console.log(table("area", byArea, allUs, top, inclusiveByArea(profile, self)));
console.log();
console.log(table("function (self time)", byFunction, allUs, top));
