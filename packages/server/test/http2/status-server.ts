import {
  type Client,
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import {
  type ListenRepairedOptions,
  listenRepaired,
  type RepairedListener,
  type SniffRoute,
} from "../../src/http2/index.js";

/**
 * A grpc-js server answering etcd's Maintenance Status and HashKV, and an echo, behind the
 * authority repair, on loopback.
 */
export interface StatusServer extends AsyncDisposable {
  port: number;
  /** The `:authority` of every call, as grpc-js saw it. */
  authorities: string[];
  /** The peer of every call, as grpc-js saw it ("unknown" behind the repairing stream). */
  peers: string[];
  /** Where the listener sent each connection. */
  routes: SniffRoute[];
  /** What the listener reported through `onError`. */
  errors: Error[];
  grpc: Server;
  listener: RepairedListener;
}

/** The StatusResponse every call gets. */
export const STATUS = etcdserverpb.StatusResponse.fromPartial({
  header: { clusterId: 17n, memberId: 42n, revision: 7n, raftTerm: 3n },
  version: "3.4.0",
  dbSize: 4096n,
  leader: 42n,
  raftIndex: 9n,
  raftTerm: 3n,
  raftAppliedIndex: 9n,
  dbSizeInUse: 2048n,
});

const identity = (buffer: Buffer) => buffer;
/** A unary echo of raw bytes, to move DATA frames of any size through the repair. */
export const ECHO_SERVICE: ServiceDefinition = {
  echo: {
    path: "/keyway.test.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
/** Calls {@link ECHO_SERVICE} through any grpc-js client. */
export function echo(client: Client, request: Buffer, metadata = new Metadata()): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      "/keyway.test.Echo/Echo",
      identity,
      identity,
      request,
      metadata,
      (error, response) => (error ? reject(error) : resolve(response!)),
    ),
  );
}

/**
 * Starts the server on `host` and a port the OS picks, with `options` for the listener; dispose
 * it to stop it.
 */
export async function startStatusServer(
  host = "127.0.0.1",
  options: Pick<ListenRepairedOptions, "http1" | "sniffTimeoutMs"> = {},
): Promise<StatusServer> {
  const authorities: string[] = [];
  const peers: string[] = [];
  const routes: SniffRoute[] = [];
  const errors: Error[] = [];
  const grpc = new Server();
  grpc.addService(etcdserverpb.MaintenanceService, {
    status: (
      call: ServerUnaryCall<etcdserverpb.StatusRequest, etcdserverpb.StatusResponse>,
      callback: sendUnaryData<etcdserverpb.StatusResponse>,
    ) => {
      authorities.push(call.getHost());
      peers.push(call.getPeer());
      callback(null, STATUS);
    },
    hashKv: (
      call: ServerUnaryCall<etcdserverpb.HashKVRequest, etcdserverpb.HashKVResponse>,
      callback: sendUnaryData<etcdserverpb.HashKVResponse>,
    ) => {
      authorities.push(call.getHost());
      callback(
        null,
        etcdserverpb.HashKVResponse.fromPartial({ header: STATUS.header, hash: 1234, compactRevision: 2n }),
      );
    },
  });
  grpc.addService(ECHO_SERVICE, {
    echo: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      authorities.push(call.getHost());
      callback(null, call.request);
    },
  });
  const listener = await listenRepaired(
    grpc.createConnectionInjector(ServerCredentials.createInsecure()),
    host,
    0,
    { ...options, onError: (error) => errors.push(error), onRoute: (route) => routes.push(route) },
  );
  const dispose = async () => {
    grpc.forceShutdown();
    await listener.close();
  };
  return {
    port: listener.port,
    authorities,
    peers,
    routes,
    errors,
    grpc,
    listener,
    [Symbol.asyncDispose]: dispose,
  };
}
