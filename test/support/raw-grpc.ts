import { credentials, type ServiceError } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";

/** Raw generated gRPC clients for one endpoint: no Keyway client logic in between. */
export interface RawClients {
  kv: etcdserverpb.KVClient;
  maintenance: etcdserverpb.MaintenanceClient;
  lease: etcdserverpb.LeaseClient;
  watch: etcdserverpb.WatchClient;
  close(): void;
}

/** Opens raw clients to `http://host:port`. */
export function rawClients(endpoint: string): RawClients {
  const address = endpoint.replace(/^http:\/\//, "");
  const options = { "grpc.max_send_message_length": 64 * 1024 * 1024 };
  const kv = new etcdserverpb.KVClient(address, credentials.createInsecure(), options);
  const maintenance = new etcdserverpb.MaintenanceClient(address, credentials.createInsecure(), options);
  const lease = new etcdserverpb.LeaseClient(address, credentials.createInsecure(), options);
  const watch = new etcdserverpb.WatchClient(address, credentials.createInsecure(), options);
  return {
    kv,
    maintenance,
    lease,
    watch,
    close() {
      kv.close();
      maintenance.close();
      lease.close();
      watch.close();
    },
  };
}

/** The outcome of one unary call: the response, or the status code and message. */
export type CallOutcome<T> = { ok: true; value: T } | { ok: false; code: number; message: string };

type Callback<T> = (error: ServiceError | null, value: T) => void;

/** Promisifies one generated unary method call into a {@link CallOutcome}. */
export function call<T>(invoke: (callback: Callback<T>) => unknown): Promise<CallOutcome<T>> {
  return new Promise((resolve) => {
    invoke((error, value) => {
      if (error) resolve({ ok: false, code: error.code, message: error.details });
      else resolve({ ok: true, value });
    });
  });
}

/** Drops the parts of a response header that differ between servers (ids, term). */
export function withoutIds<T>(outcome: CallOutcome<T>): unknown {
  return JSON.parse(
    JSON.stringify(outcome, (key, value: unknown) => {
      if (key === "clusterId" || key === "memberId" || key === "raftTerm") return undefined;
      if (typeof value === "bigint") return value.toString();
      return value;
    }),
  );
}
