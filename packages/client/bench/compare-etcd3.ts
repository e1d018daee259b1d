/**
 * Compares @keyway/client with the `etcd3` npm package on the same real etcd and workloads:
 * put and get throughput with 1, 10 and 100 concurrent calls in one process, and watch event
 * throughput (replaying a history of events). Prints a markdown table of medians of 5 runs,
 * interleaved between the two clients.
 * Run: pnpm --filter @keyway/client bench   (ETCD_ENDPOINT=http://host:port to use a running server)
 */
import { KeywayClient } from "@keyway/client";
import { Etcd3 } from "etcd3";
import { startEtcdCluster } from "../../../test/support/etcd-process.js";
import { type BenchClient, median, throughput } from "./workloads.js";

const RUNS = 5;
const VALUE = "v".repeat(256);
const CONCURRENCY = [1, 10, 100];
const CALLS: Record<number, number> = { 1: 1_000, 10: 5_000, 100: 10_000 };
const WATCH_EVENTS = 100_000;

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

/** One workload: a name and how to run it once on a client, returning ops per second. */
interface Workload {
  name: string;
  run(client: BenchClient): Promise<number>;
}

function workloads(watchFrom: bigint): Workload[] {
  const list: Workload[] = [];
  for (const c of CONCURRENCY) {
    const n = CALLS[c] as number;
    list.push({
      name: `put c=${c}`,
      run: (b) => throughput(c, n, (i) => b.put(`bench/k/${i % 1000}`, VALUE)),
    });
    list.push({ name: `get c=${c}`, run: (b) => throughput(c, n, (i) => b.get(`bench/k/${i % 1000}`)) });
  }
  list.push({
    name: "watch events",
    async run(b) {
      const started = performance.now();
      await b.watchEvents("bench/w/", watchFrom, WATCH_EVENTS);
      return WATCH_EVENTS / ((performance.now() - started) / 1000);
    },
  });
  return list;
}

async function main(): Promise<void> {
  const cluster = process.env.ETCD_ENDPOINT === undefined ? await startEtcdCluster() : undefined;
  const endpoint = process.env.ETCD_ENDPOINT ?? (cluster?.endpoints[0] as string);
  const clients = [keyway(endpoint), etcd3(endpoint)] as const;
  try {
    const watchFrom = await writeHistory(endpoint);
    for (const client of clients) await throughput(10, 500, (i) => client.put(`bench/warm/${i}`, VALUE));
    console.log(`| workload | ${clients[0].name} (ops/s) | ${clients[1].name} (ops/s) | ratio |`);
    console.log("| --- | ---: | ---: | ---: |");
    for (const workload of workloads(watchFrom)) {
      const results: [number[], number[]] = [[], []];
      // Interleave the clients run by run, alternating who goes first, so drift in the server's or
      // the machine's load hits both alike.
      for (let run = 0; run < RUNS; run++) {
        const order = run % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) results[i as 0 | 1].push(await workload.run(clients[i as 0 | 1]));
      }
      const [ours, theirs] = [median(results[0]), median(results[1])];
      console.log(
        `| ${workload.name} | ${Math.round(ours)} | ${Math.round(theirs)} | ${(ours / theirs).toFixed(2)}x |`,
      );
    }
  } finally {
    for (const client of clients) await client.close();
    await cluster?.close();
  }
}

await main();
