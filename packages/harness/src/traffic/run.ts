import { prefixEnd } from "@keyway/api";
import { KeywayClient } from "@keyway/client";
import { SeededRng } from "@keyway/raft";
import type { History, KeyValue } from "../history/types.js";
import { recordKv } from "./convert.js";
import { execute } from "./execute.js";
import { Recorder } from "./recorder.js";
import { RecordedWatch } from "./watch-stream.js";
import { Workload } from "./workload.js";

/** Options of {@link runTraffic}. */
export interface TrafficOptions {
  /** Client URLs, e.g. `["http://127.0.0.1:2379"]` (plain text). */
  readonly endpoints: readonly string[];
  /** Seeds every choice; the same seed replays the same choice sequence per client. */
  readonly seed: number;
  /** How long clients keep sending, in ms. */
  readonly durationMs: number;
  /** Concurrent logical clients, each with its own KeywayClient; default 4. */
  readonly clients?: number;
  /** Keys in the keyspace; default 10. */
  readonly keyCount?: number;
  /** Concurrent recorded watch streams over the keyspace; default 2. */
  readonly watchers?: number;
  /** Deadline of each call; past it the outcome is `unknown`. Default 2000 ms. */
  readonly requestTimeoutMs?: number;
  /** Scenario name stored in the history (for the report and replays); default "traffic". */
  readonly scenario?: string;
  /** Stops the clients early; the history recorded so far is returned. */
  readonly signal?: AbortSignal;
}

/** Most concurrent clients and watchers (bounds a run's connections). */
export const MAX_TRAFFIC_CLIENTS = 64;

/**
 * A client pauses after an error, doubling per consecutive error: against a dead member, calls
 * fail at once, and a tight loop would fill the history with thousands of refusals per second
 * and starve the machine (a restarting member took 5 s instead of 1 under it).
 */
const ERROR_BACKOFF_MS = 20;
const MAX_ERROR_BACKOFF_MS = 500;

/**
 * Runs seeded traffic against a cluster and records everything: each client's calls with
 * monotonic invoke/return times and exact outcomes, and every response of the watch streams.
 *
 * The keyspace is `h/<seed>/k00..`, read once before the clients start (the history's
 * `initial`); the watches start at the revision after that read, so together they cover the
 * whole run. Clients never retry (`retry.retries: 0`): a write is never sent twice, and a lease
 * revoke answered "lease not found" really found no lease. Leases get a TTL beyond the run's end,
 * so none expires while the checker's model assumes it alive.
 */
export async function runTraffic(options: TrafficOptions): Promise<History> {
  const clients = bounded(options.clients ?? 4, "clients");
  const watchers = bounded(options.watchers ?? 2, "watchers");
  const timeoutMs = options.requestTimeoutMs ?? 2_000;
  const keyCount = Math.max(1, Math.min(options.keyCount ?? 10, 1000));
  const prefix = `h/${options.seed}/`;
  const end = prefixEnd(Buffer.from(prefix)).toString("utf8");
  const keys = Array.from({ length: keyCount }, (_, i) => `${prefix}k${String(i).padStart(2, "0")}`);
  const leaseTtlSeconds = Math.ceil(options.durationMs / 1000) + 60;
  const connect = () =>
    new KeywayClient({
      endpoints: [...options.endpoints],
      retry: { retries: 0 },
      attemptTimeoutMs: timeoutMs,
      defaultTimeoutMs: timeoutMs,
    });
  const initial = await readInitial(connect, prefix);
  const recorder = new Recorder();
  const watches = Array.from(
    { length: watchers },
    (_, i) =>
      new RecordedWatch({
        endpoints: rotate(options.endpoints, i),
        client: clients + i,
        key: prefix,
        rangeEnd: end,
        startRevision: initial.revision + 1n,
        records: recorder.watches,
      }),
  );
  const rng = new SeededRng(options.seed);
  const deadline = Date.now() + options.durationMs;
  const running = Array.from({ length: clients }, async (_, client) => {
    const workload = new Workload(client, keys, prefix, end, leaseTtlSeconds, new SeededRng(rng.next32()));
    await using kv = connect();
    let failures = 0;
    while (Date.now() < deadline && options.signal?.aborted !== true) {
      const operation = workload.next();
      const outcome = await recorder.record(client, operation, () => execute(kv, operation, timeoutMs));
      workload.observe(operation, outcome);
      failures = outcome.status === "ok" ? 0 : failures + 1;
      if (failures > 0)
        await pause(Math.min(ERROR_BACKOFF_MS * 2 ** (failures - 1), MAX_ERROR_BACKOFF_MS), deadline);
    }
  });
  await Promise.all(running);
  await Promise.all(watches.map((w) => w.stop()));
  return {
    seed: options.seed,
    scenario: options.scenario ?? "traffic",
    initial,
    operations: recorder.operations.sort((a, b) => a.id - b.id),
    watches: recorder.watches,
  };
}

async function readInitial(
  connect: () => KeywayClient,
  prefix: string,
): Promise<{ revision: bigint; kvs: KeyValue[] }> {
  await using client = connect();
  const r = await client.range(prefix, { prefix: true });
  return { revision: r.revision, kvs: r.kvs.map(recordKv) };
}

/** Sleeps `ms`, but not past `deadline` (epoch ms). */
function pause(ms: number, deadline: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, deadline - Date.now()))));
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const n = by % Math.max(items.length, 1);
  return [...items.slice(n), ...items.slice(0, n)];
}

function bounded(count: number, what: string): number {
  if (!Number.isInteger(count) || count < 0 || count > MAX_TRAFFIC_CLIENTS) {
    throw new Error(`runTraffic: ${what} must be an integer in [0, ${MAX_TRAFFIC_CLIENTS}]`);
  }
  return count;
}
