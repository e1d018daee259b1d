/**
 * Lock benchmark for @keyway/lock's Mutex against any etcd-v3 endpoint:
 * - uncontended lock + unlock latency: one client, one session, sequential (median and p99, ms);
 * - hand-off rate under contention: 10 clients (one connection and session each) loop
 *   lock → unlock on one name for a fixed time; acquisitions per second.
 * Run: pnpm --filter @keyway/lock bench --endpoint http://127.0.0.1:2379
 * Without an endpoint it starts a one-member etcd 3.4 on loopback. Prints one JSON line.
 */
import { parseArgs } from "node:util";
import { KeywayClient } from "@keyway/client";
import { locks } from "@keyway/lock";
import { startEtcdCluster } from "../../../test/support/etcd-process.js";

const { values } = parseArgs({
  // pnpm passes a literal "--" through; drop it so the options after it still parse.
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    endpoint: { type: "string" },
    "uncontended-ops": { type: "string", default: "500" },
    contenders: { type: "string", default: "10" },
    "contended-seconds": { type: "string", default: "10" },
  },
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function uncontended(endpoint: string, ops: number) {
  const client = new KeywayClient({ endpoints: [endpoint] });
  const session = await client.session({ ttlSeconds: 30 });
  const mutex = locks(client).mutex(`bench/uncontended/${process.pid}`, { session });
  const latenciesMs: number[] = [];
  for (let i = 0; i < ops + 20; i++) {
    const start = process.hrtime.bigint();
    await mutex.lock();
    await mutex.unlock();
    if (i >= 20) latenciesMs.push(Number(process.hrtime.bigint() - start) / 1e6); // 20 warm-up rounds
  }
  await session.close();
  await client.close();
  latenciesMs.sort((a, b) => a - b);
  return { ops, medianMs: percentile(latenciesMs, 50), p99Ms: percentile(latenciesMs, 99) };
}

async function contended(endpoint: string, contenders: number, seconds: number) {
  const name = `bench/contended/${process.pid}`;
  const clients = Array.from({ length: contenders }, () => new KeywayClient({ endpoints: [endpoint] }));
  const sessions = await Promise.all(clients.map((c) => c.session({ ttlSeconds: 30 })));
  const deadline = Date.now() + seconds * 1000;
  let acquisitions = 0;
  const start = Date.now();
  await Promise.all(
    clients.map(async (client, i) => {
      const mutex = locks(client).mutex(name, { session: sessions[i]! });
      while (Date.now() < deadline) {
        await mutex.lock();
        acquisitions++;
        await mutex.unlock();
      }
    }),
  );
  const elapsedS = (Date.now() - start) / 1000;
  await Promise.all(sessions.map((s) => s.close()));
  await Promise.all(clients.map((c) => c.close()));
  return { contenders, seconds: elapsedS, acquisitions, handoffsPerSecond: acquisitions / elapsedS };
}

const cluster = values.endpoint === undefined ? await startEtcdCluster() : undefined;
const endpoint = values.endpoint ?? (cluster?.endpoints[0] as string);
try {
  const single = await uncontended(endpoint, Number(values["uncontended-ops"]));
  const many = await contended(endpoint, Number(values.contenders), Number(values["contended-seconds"]));
  console.log(JSON.stringify({ endpoint, uncontended: single, contended: many }));
} finally {
  await cluster?.close();
}
