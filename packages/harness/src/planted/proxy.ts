import {
  Client,
  credentials,
  Server,
  ServerCredentials,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { BugInjector, type PlantedBug } from "./bugs.js";
import { callUpstream, forwardBidi, forwardUnary } from "./forward.js";

export type { PlantedBug } from "./bugs.js";

/** Options of {@link startPlantedProxy}. */
export interface PlantedProxyOptions {
  /** The real server behind the proxy, `http://host:port`. */
  readonly upstream: string;
  readonly bug: PlantedBug;
  /** Seeds when the bug strikes. */
  readonly seed: number;
  /** Chance that an eligible call or response is hit; default 0.05. */
  readonly rate?: number;
  /** Where to listen; default `127.0.0.1:0` (a free port). */
  readonly listen?: string;
}

/** A running proxy. */
export interface PlantedProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, for the traffic's endpoints. */
  readonly endpoint: string;
  /** How many times the bug struck so far. */
  injected(): number;
  close(): Promise<void>;
}

const KV = etcdserverpb.KVService;

/**
 * A gRPC proxy in front of a real etcd (KV, Lease and Watch) that can plant one bug, to prove the
 * checkers catch it: `staleRead` answers a range from an older copy, `lostWrite` acknowledges a
 * put it never forwards (with the revision the write would have had), `droppedWatchEvent` drops
 * an event from a watch response. With `none` it forwards faithfully.
 */
export async function startPlantedProxy(options: PlantedProxyOptions): Promise<PlantedProxy> {
  const upstream = new Client(options.upstream.replace(/^https?:\/\//, ""), credentials.createInsecure());
  const bugs = new BugInjector(options.bug, options.seed, options.rate ?? 0.05);
  const server = new Server();
  server.addService(KV, kvHandlers(upstream, bugs));
  const LEASE = etcdserverpb.LeaseService;
  server.addService(LEASE, {
    leaseGrant: forwardUnary(upstream, LEASE.leaseGrant),
    leaseRevoke: forwardUnary(upstream, LEASE.leaseRevoke),
    leaseTimeToLive: forwardUnary(upstream, LEASE.leaseTimeToLive),
    leaseLeases: forwardUnary(upstream, LEASE.leaseLeases),
    leaseKeepAlive: forwardBidi(upstream, LEASE.leaseKeepAlive),
  });
  server.addService(etcdserverpb.WatchService, {
    watch: forwardBidi(upstream, etcdserverpb.WatchService.watch, (response) => bugs.filterWatch(response)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.listen ?? "127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const close = async () => {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    upstream.close();
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    injected: () => bugs.injected,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function kvHandlers(upstream: Client, bugs: BugInjector): UntypedServiceImplementation {
  const noteRevision = <Res extends { header?: etcdserverpb.ResponseHeader | undefined }>(
    res: Res | undefined,
  ) => {
    if (res?.header !== undefined) bugs.acknowledged(res.header.revision);
  };
  return {
    range: ((call, callback) => {
      const stale = bugs.staleRange(call.request);
      if (stale !== undefined) return callback(null, stale);
      callUpstream(upstream, KV.range, call.request, call.metadata, (error, response) => {
        if (response !== undefined) bugs.rangeAnswered(call.request, response);
        callback(error, response);
      });
    }) satisfies etcdserverpb.KVServer["range"],
    put: ((call, callback) => {
      if (!bugs.losesPut()) {
        callUpstream(upstream, KV.put, call.request, call.metadata, (error, response) => {
          noteRevision(response);
          callback(error, response);
        });
        return;
      }
      // Acknowledge with the revision the put would have had, and never send it.
      const probe = { ...etcdserverpb.RangeRequest.fromPartial({ key: call.request.key }), countOnly: true };
      callUpstream(upstream, KV.range, probe, call.metadata, (error, response) => {
        if (error !== null || response?.header === undefined) return callback(error);
        callback(null, {
          header: { ...response.header, revision: response.header.revision + 1n },
          prevKv: undefined,
        });
      });
    }) satisfies etcdserverpb.KVServer["put"],
    deleteRange: ((call, callback) =>
      callUpstream(upstream, KV.deleteRange, call.request, call.metadata, (error, response) => {
        noteRevision(response);
        callback(error, response);
      })) satisfies etcdserverpb.KVServer["deleteRange"],
    txn: ((call, callback) =>
      callUpstream(upstream, KV.txn, call.request, call.metadata, (error, response) => {
        noteRevision(response);
        callback(error, response);
      })) satisfies etcdserverpb.KVServer["txn"],
    compact: forwardUnary(upstream, KV.compact),
  };
}
