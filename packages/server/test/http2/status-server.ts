import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { listenRepaired, type RepairedListener } from "../../src/http2/index.js";

/** A grpc-js server answering etcd's Maintenance/Status behind the authority repair, on loopback. */
export interface StatusServer extends AsyncDisposable {
  port: number;
  /** The `:authority` of every Status call, as grpc-js saw it. */
  authorities: string[];
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

/** Starts the server on a port the OS picks; dispose it to stop it. */
export async function startStatusServer(): Promise<StatusServer> {
  const authorities: string[] = [];
  const grpc = new Server();
  grpc.addService(etcdserverpb.MaintenanceService, {
    status: (
      call: ServerUnaryCall<etcdserverpb.StatusRequest, etcdserverpb.StatusResponse>,
      callback: sendUnaryData<etcdserverpb.StatusResponse>,
    ) => {
      authorities.push(call.getHost());
      callback(null, STATUS);
    },
  });
  const listener = await listenRepaired(
    grpc.createConnectionInjector(ServerCredentials.createInsecure()),
    "127.0.0.1",
    0,
  );
  const dispose = async () => {
    grpc.forceShutdown();
    await listener.close();
  };
  return { port: listener.port, authorities, grpc, listener, [Symbol.asyncDispose]: dispose };
}
