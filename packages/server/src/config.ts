import type { Logger } from "pino";
import type { InitialClusterState, InitialMember } from "./cluster/initial-cluster.js";

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
  /** URLs to serve the other members on (`--listen-peer-urls`); the peer transport binds them. */
  listenPeerUrls: string[];
  /**
   * The members of a new cluster (`--initial-cluster`); this member's name must be among them,
   * with exactly its advertised peer URLs (cluster/initial-cluster.ts checks it as etcd does).
   */
  initialCluster: InitialMember[];
  /** Start a new cluster, or join an existing one (`--initial-cluster-state`, default new). */
  initialClusterState: InitialClusterState;
  /** Token mixed into the member ids, hence the cluster id, on first start (`--initial-cluster-token`). */
  initialClusterToken: string;
  /**
   * Applied entries between checkpoints, each a snapshot point of Raft's log
   * (`--snapshot-count`; etcd 3.4's default is 100000, Keyway's 10000 as etcd 3.6's: a checkpoint
   * here costs one backend commit, and the WAL and a restart's replay stay short).
   */
  snapshotCount: number;
  /** Most operations in one txn branch (`--max-txn-ops`, etcd default 128). */
  maxTxnOps: number;
  /** Largest request the server accepts, in bytes (`--max-request-bytes`, etcd default 1.5 MiB). */
  maxRequestBytes: number;
  /** Raft heartbeat interval in ms (`--heartbeat-interval`, etcd default 100); a tick. */
  heartbeatIntervalMs: number;
  /**
   * Raft election timeout in ms (`--election-timeout`, etcd default 1000). One member holds no
   * elections yet, but lease timing derives from it as in etcd: the minimum TTL
   * ({@link minLeaseTtlSeconds}) and how long leases are extended on a restart.
   */
  electionTimeoutMs: number;
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
  listenPeerUrls: ["http://localhost:2380"],
  initialCluster: [{ name: "default", peerUrls: ["http://localhost:2380"] }],
  initialClusterState: "new",
  initialClusterToken: "etcd-cluster",
  snapshotCount: 10_000,
  maxTxnOps: 128,
  maxRequestBytes: 1.5 * 1024 * 1024,
  heartbeatIntervalMs: 100,
  electionTimeoutMs: 1000,
  watchProgressNotifyIntervalMs: 10 * 60 * 1000,
} as const;

/**
 * etcd's minimum lease TTL in whole seconds: ceil(1.5 election timeouts), computed as etcd does
 * in ticks ((3 × electionTicks) / 2 heartbeats, integer division), so 2 s with the defaults.
 */
export function minLeaseTtlSeconds(
  config: Pick<ServerConfig, "heartbeatIntervalMs" | "electionTimeoutMs">,
): number {
  const electionTicks = Math.floor(config.electionTimeoutMs / config.heartbeatIntervalMs);
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * config.heartbeatIntervalMs) / 1000);
}

/** Raft ticks in an election timeout (etcd: election timeout / heartbeat interval). */
export function electionTicks(
  config: Pick<ServerConfig, "heartbeatIntervalMs" | "electionTimeoutMs">,
): number {
  return Math.max(1, Math.floor(config.electionTimeoutMs / config.heartbeatIntervalMs));
}

/**
 * How long a proposal or a linearizable read waits before `request timed out`: etcd's
 * ReqTimeout, 5 s plus two election timeouts.
 */
export function requestTimeoutMs(config: Pick<ServerConfig, "electionTimeoutMs">): number {
  return 5_000 + 2 * config.electionTimeoutMs;
}

/**
 * gRPC lets requests this much larger than max-request-bytes reach the handlers, so that an
 * oversized request gets etcd's own error instead of a transport error (etcd adds the same).
 */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** The etcd API version Keyway implements, reported by Maintenance.Status. */
export const ETCD_API_VERSION = "3.4.0";
