/**
 * Compares @keyway/client with the `etcd3` npm package on the same real etcd and workloads:
 * put and get throughput with 1, 10 and 100 concurrent calls in one process, and watch event
 * throughput (replaying a history of events). Prints a markdown table of medians of 3 runs.
 * Run: pnpm --filter @keyway/client bench   (ETCD_ENDPOINT=http://host:port to use a running server)
 */
import { KeywayClient } from "@keyway/client";
import { Etcd3 } from "etcd3";
import { startEtcdCluster } from "../../../test/support/etcd-process.js";
import { type BenchClient, median, throughput } from "./workloads.js";

const RUNS = 3;
const VALUE = "v".repeat(256);
const CONCURRENCY = [1, 10, 100];
const CALLS: Record<number, number> = { 1: 2_000, 10: 10_000, 100: 20_000 };
const WATCH_EVENTS = 20_000;

function keyway(endpoint: string): BenchClient {
  const client = new KeywayClient({ endpoints: [endpoint] });
  return {
    name: "@keyway/client",
    put: (key, value) => client.put(key, value),
    get: (key) => client.get(key),
    async watchEvents(prefix, startRevision, count) {
      const watcher = await client.watch(prefix, { prefix: true, startRevision });
      let seen = 0;
      for await (const _ of watcher) if (++seen === count) break;
    },
    close: () => client.close(),
  };
}

function etcd3(endpoint: string): BenchClient {
  // Same receive limit as ours (unlimited): with grpc-js's default 4 MiB, etcd3's watch of this
  // history disconnects with RESOURCE_EXHAUSTED in a loop and never delivers an event.
  const client = new Etcd3({ hosts: endpoint, grpcOptions: { "grpc.max_receive_message_length": -1 } });
  return {
    name: "etcd3 1.1.2",
    put: (key, value) => client.put(key).value(value).exec(),
    get: (key) => client.get(key).string(),
    async watchEvents(prefix, startRevision, count) {
      const watcher = await client.watch().prefix(prefix).startRevision(String(startRevision)).create();
      await new Promise<void>((resolve) => {
        let seen = 0;
        watcher.on("put", () => {
          if (++seen === count) resolve();
        });
      });
      await watcher.cancel();
    },
    close: async () => client.close(),
  };
}

/** Writes the watch history once: WATCH_EVENTS puts in txns of 100. */
async function writeHistory(endpoint: string): Promise<bigint> {
  await using client = new KeywayClient({ endpoints: [endpoint] });
  const { revision } = await client.put("bench/watch-start", "x");
  const { op } = await import("@keyway/client");
  for (let i = 0; i < WATCH_EVENTS; i += 100) {
    const puts = Array.from({ length: 100 }, (_, j) => op.put(`bench/w/${(i + j) % 1000}`, VALUE));
    await client
      .txn()
      .then(...puts)
      .commit();
  }
  return revision + 1n;
}

async function measure(
  endpoint: string,
  make: (e: string) => BenchClient,
  watchFrom: bigint,
): Promise<Record<string, number>> {
  const client = make(endpoint);
  const result: Record<string, number> = {};
  try {
    await throughput(10, 500, (i) => client.put(`bench/warm/${i}`, VALUE));
    for (const c of CONCURRENCY) {
      const n = CALLS[c] as number;
      result[`put c=${c}`] = await throughput(c, n, (i) => client.put(`bench/k/${i % 1000}`, VALUE));
      result[`get c=${c}`] = await throughput(c, n, (i) => client.get(`bench/k/${i % 1000}`));
    }
    const started = performance.now();
    await client.watchEvents("bench/w/", watchFrom, WATCH_EVENTS);
    result["watch events"] = WATCH_EVENTS / ((performance.now() - started) / 1000);
  } finally {
    await client.close();
  }
  return result;
}

async function main(): Promise<void> {
  const cluster = process.env.ETCD_ENDPOINT === undefined ? await startEtcdCluster() : undefined;
  const endpoint = process.env.ETCD_ENDPOINT ?? (cluster?.endpoints[0] as string);
  try {
    const watchFrom = await writeHistory(endpoint);
    const runs: Record<string, Record<string, number>[]> = { keyway: [], etcd3: [] };
    for (let run = 0; run < RUNS; run++) {
      // Alternate the order so neither client always runs on a warmer server.
      const order = run % 2 === 0 ? (["keyway", "etcd3"] as const) : (["etcd3", "keyway"] as const);
      for (const name of order) {
        runs[name]?.push(await measure(endpoint, name === "keyway" ? keyway : etcd3, watchFrom));
        process.stderr.write(`run ${run + 1}/${RUNS} ${name} done\n`);
      }
    }
    const rows = Object.keys(runs.keyway?.[0] ?? {});
    console.log("| workload | @keyway/client (ops/s) | etcd3 1.1.2 (ops/s) | ratio |");
    console.log("| --- | ---: | ---: | ---: |");
    for (const row of rows) {
      const ours = median((runs.keyway ?? []).map((r) => r[row] as number));
      const theirs = median((runs.etcd3 ?? []).map((r) => r[row] as number));
      console.log(
        `| ${row} | ${Math.round(ours)} | ${Math.round(theirs)} | ${(ours / theirs).toFixed(2)}x |`,
      );
    }
  } finally {
    await cluster?.close();
  }
}

await main();
