import type { Logger } from "pino";

/** What one member needs to start. Flag names in the CLI follow etcd's (`--data-dir`, ...). */
export interface ServerConfig {
  /** Human-readable member name (`--name`). */
  name: string;
  /** Directory for the WAL, the backend and the member identity (`--data-dir`). */
  dataDir: string;
  /** URLs to serve clients on; only `http://host:port` for now (`--listen-client-urls`). */
  listenClientUrls: string[];
  /** URLs announced to clients in MemberList (`--advertise-client-urls`). */
  advertiseClientUrls: string[];
  /** Peer URLs announced in MemberList (`--initial-advertise-peer-urls`). */
  advertisePeerUrls: string[];
  /** Cluster token mixed into the cluster id on first start (`--initial-cluster-token`). */
  initialClusterToken: string;
  /** Most operations in one txn branch (`--max-txn-ops`, etcd default 128). */
  maxTxnOps: number;
  /** Largest request the server accepts, in bytes (`--max-request-bytes`, etcd default 1.5 MiB). */
  maxRequestBytes: number;
  /**
   * Period of watch progress notifications for watchers that ask for them, in ms
   * (`--experimental-watch-progress-notify-interval`, etcd default 10 minutes).
   */
  watchProgressNotifyIntervalMs: number;
  logger: Logger;
}

/** etcd's defaults for the settings above that have one. */
export const DEFAULTS = {
  name: "default",
  dataDir: "keyway-data",
  listenClientUrls: ["http://127.0.0.1:2379"],
  advertisePeerUrls: ["http://localhost:2380"],
  initialClusterToken: "etcd-cluster",
  maxTxnOps: 128,
  maxRequestBytes: 1.5 * 1024 * 1024,
  watchProgressNotifyIntervalMs: 10 * 60 * 1000,
} as const;

/**
 * gRPC lets requests this much larger than max-request-bytes reach the handlers, so that an
 * oversized request gets etcd's own error instead of a transport error (etcd adds the same).
 */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** The etcd API version Keyway implements, reported by Maintenance.Status. */
export const ETCD_API_VERSION = "3.4.0";
