import { credentials, type ServiceError } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import * as hdr from "hdr-histogram-js";

/** One benchmark run's shape, as etcd's benchmark tool names it. */
export interface LoadSpec {
  endpoint: string;
  /** `fill` writes `total` distinct keys in txns of {@link FILL_BATCH} puts (for memory figures). */
  workload: "put" | "range-linearizable" | "range-serializable" | "fill";
  /** Concurrent requesters. */
  clients: number;
  /** gRPC connections the requesters share. */
  conns: number;
  /** Requests in all. */
  total: number;
  keySizeBytes: number;
  valueSizeBytes: number;
}

/** What a run measured. */
export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** Puts per txn in the `fill` workload (etcd's default max-txn-ops is 128). */
export const FILL_BATCH = 100;

type Send = (client: etcdserverpb.KVClient, i: number, done: (error: ServiceError | null) => void) => void;

function sender(spec: LoadSpec): Send {
  const value = Buffer.alloc(spec.valueSizeBytes, 0x61);
  const keyOf = (i: number) =>
    Buffer.from(String(i).padStart(spec.keySizeBytes, "0").slice(-spec.keySizeBytes));
  if (spec.workload === "fill") {
    const put = (i: number) => ({
      request: {
        $case: "requestPut" as const,
        requestPut: {
          key: keyOf(i),
          value,
          lease: 0n,
          prevKv: false,
          ignoreValue: false,
          ignoreLease: false,
        },
      },
    });
    return (client, i, done) =>
      client.txn(
        etcdserverpb.TxnRequest.fromPartial({
          success: Array.from({ length: FILL_BATCH }, (_, k) => put(i * FILL_BATCH + k)),
        }),
        done,
      );
  }
  if (spec.workload === "put") {
    return (client, i, done) =>
      client.put(
        { key: keyOf(i), value, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false },
        done,
      );
  }
  const request = etcdserverpb.RangeRequest.fromPartial({
    key: Buffer.from("foo"),
    serializable: spec.workload === "range-serializable",
  });
  return (client, _i, done) => client.range(request, done);
}

/** Runs one load: `clients` loops share `conns` channels until `total` requests have completed. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const address = spec.endpoint.replace(/^http:\/\//, "");
  // grpc-js shares a connection between channels with equal options; a distinct option each
  // gives every channel its own HTTP/2 connection, like etcd's benchmark --conns.
  const channels = Array.from(
    { length: spec.conns },
    (_, i) => new etcdserverpb.KVClient(address, credentials.createInsecure(), { "keyway.bench.conn": i }),
  );
  if (spec.workload.startsWith("range")) {
    await new Promise<void>((resolve, reject) =>
      channels[0]?.put(
        etcdserverpb.PutRequest.fromPartial({ key: Buffer.from("foo"), value: Buffer.from("bar") }),
        (e) => (e ? reject(e) : resolve()),
      ),
    );
  }
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const send = sender(spec);
  const requests = spec.workload === "fill" ? Math.ceil(spec.total / FILL_BATCH) : spec.total;
  let issued = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const loop = (client: etcdserverpb.KVClient) =>
    new Promise<void>((resolve) => {
      const next = () => {
        if (issued >= requests) return resolve();
        const i = issued++;
        const t0 = process.hrtime.bigint();
        send(client, i, (error) => {
          if (error) errors++;
          histogram.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
          next();
        });
      };
      next();
    });
  await Promise.all(
    Array.from({ length: spec.clients }, (_, i) => loop(channels[i % spec.conns] as etcdserverpb.KVClient)),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const channel of channels) channel.close();
  return {
    requestsPerSecond: requests / seconds,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
    errors,
  };
}
