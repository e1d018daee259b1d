import { credentials, type ServiceError } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { afterAll, beforeAll } from "vitest";
import { type ServerPair, startPair } from "./pair.js";

/** Raw generated gRPC clients for one endpoint: no Keyway client logic in between. */
export interface RawClients {
  kv: etcdserverpb.KVClient;
  maintenance: etcdserverpb.MaintenanceClient;
  watch: etcdserverpb.WatchClient;
  close(): void;
}

/** Opens raw clients to `http://host:port`. */
export function rawClients(endpoint: string): RawClients {
  const address = endpoint.replace(/^http:\/\//, "");
  const options = { "grpc.max_send_message_length": 64 * 1024 * 1024 };
  const kv = new etcdserverpb.KVClient(address, credentials.createInsecure(), options);
  const maintenance = new etcdserverpb.MaintenanceClient(address, credentials.createInsecure(), options);
  const watch = new etcdserverpb.WatchClient(address, credentials.createInsecure(), options);
  return {
    kv,
    maintenance,
    watch,
    close() {
      kv.close();
      maintenance.close();
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

/** Raw clients of a fresh etcd 3.4 and Keyway pair; the fields exist inside tests and hooks. */
export interface RawPair {
  readonly pair: ServerPair;
  readonly etcd: RawClients;
  readonly keyway: RawClients;
}

/** Registers the hooks of a differential raw-gRPC test file: a fresh pair with raw clients of each. */
export function useRawPair(): RawPair {
  const state: { pair?: ServerPair; etcd?: RawClients; keyway?: RawClients } = {};
  beforeAll(async () => {
    state.pair = await startPair();
    state.etcd = rawClients(state.pair.etcd.endpoints[0] as string);
    state.keyway = rawClients(state.pair.keyway.endpoint);
  });
  afterAll(async () => {
    state.etcd?.close();
    state.keyway?.close();
    await state.pair?.close();
  });
  const get = <K extends keyof RawPair>(name: K): RawPair[K] => {
    const value = state[name];
    if (value === undefined) throw new Error(`raw pair: ${name} is not set up yet`);
    return value as RawPair[K];
  };
  return {
    get pair() {
      return get("pair");
    },
    get etcd() {
      return get("etcd");
    },
    get keyway() {
      return get("keyway");
    },
  };
}
