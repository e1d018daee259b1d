import { type ChannelCredentials, type ChannelOptions, credentials } from "@grpc/grpc-js";
import { EventEmitter } from "eventemitter3";
import { AuthClient } from "./auth.js";
import type { AuthCredentials } from "./auth-token.js";
import type { ClientEvents } from "./client-events.js";
import { ClusterClient } from "./cluster.js";
import { type Endpoint, parseEndpoint } from "./endpoint.js";
import { EndpointPool } from "./endpoint-pool.js";
import { badRequest } from "./errors.js";
import { KeepAliveStream } from "./keep-alive-stream.js";
import { identityMapper } from "./key-mapper.js";
import type { CompactOptions } from "./kv.js";
import { MaintenanceClient } from "./maintenance.js";
import { Keyspace } from "./namespace.js";
import { type BalancerPolicy, createPicker, type Picker } from "./picker.js";
import type { ResponseHeader } from "./results.js";
import { Transport } from "./transport.js";
import { WatchManager } from "./watch-manager.js";

/** TLS settings; give `cert` and `key` for mutual TLS. */
export interface TlsOptions {
  /** CA certificate(s) in PEM; default: the system roots. */
  ca?: Buffer;
  /** Client certificate chain in PEM (mutual TLS). */
  cert?: Buffer;
  /** Client private key in PEM (mutual TLS). */
  key?: Buffer;
}

/** Options of {@link KeywayClient}. */
export interface ClientOptions {
  /** Endpoint URLs: `http://host:port`, `https://host:port` or `host:port`. */
  endpoints: string[];
  /** Balancing policy or a custom picker. Default "round-robin". */
  balancer?: BalancerPolicy | Picker<Endpoint>;
  /** User and password; the token is fetched lazily, attached to calls and refreshed when stale. */
  auth?: AuthCredentials;
  /** TLS (or mutual TLS) for every endpoint. */
  tls?: TlsOptions;
  /** Deadline of calls that give no `timeoutMs`. Default: none. */
  defaultTimeoutMs?: number;
  /**
   * How long a call waits for a connection to one endpoint before trying the next (refused
   * connections fail at once; this bounds a black-holed member). Default 3000.
   */
  connectTimeoutMs?: number;
  /**
   * Longest a connection attempt to one endpoint may stay unanswered (TCP accepted, no HTTP/2
   * handshake) before its channel is replaced by a fresh one. grpc-js itself never gives up on
   * such an attempt, so without this bound an endpoint could stay unreachable after the network
   * heals. Default 5000.
   */
  handshakeTimeoutMs?: number;
  /** Retries of safe calls on UNAVAILABLE (exponential backoff with jitter). */
  retry?: { retries?: number; minDelayMs?: number; maxDelayMs?: number };
  /**
   * Deadline of one attempt of a safe call (reads, lease calls, read-only admin) in ms, doubled
   * on each retry. An attempt without an answer by then marks its endpoint suspect and moves to
   * another one, so a member that went silent costs one attempt, not the call. Writes never get
   * one: they are not re-sent. Default 2000.
   */
  attemptTimeoutMs?: number;
  /**
   * HTTP/2 keepalive pings while calls or streams are open: a ping every `timeMs`, the connection
   * is dropped (and its calls fail over) when no ack comes within `timeoutMs`. etcd refuses pings
   * more often than every 5 s. Default `{ timeMs: 5000, timeoutMs: 3000, permitWithoutCalls: false }`.
   */
  keepalive?: { timeMs?: number; timeoutMs?: number; permitWithoutCalls?: boolean };
  /** Replace the endpoints with the members' client URLs every this many ms (learners skipped). */
  autoSyncIntervalMs?: number;
  /** Backoff between probes of an endpoint marked down. Default 100 ms growing to 2 s. */
  probe?: { initialMs?: number; maxMs?: number };
  /** Extra grpc-js channel options (escape hatch). */
  channelOptions?: ChannelOptions;
}

/**
 * The Keyway client: a typed etcd v3 client that works the same against etcd and Keyway.
 * KV, txn, watch, lease and session calls are on the client itself (the root keyspace);
 * `cluster`, `maintenance` and `auth` hold the admin calls; `events` reports endpoint health and
 * leader changes.
 */
export class KeywayClient extends Keyspace implements AsyncDisposable {
  /** Status events: endpoint-up, endpoint-down, leader-changed, endpoints-changed. */
  readonly events: EventEmitter<ClientEvents>;
  readonly cluster: ClusterClient;
  readonly maintenance: MaintenanceClient;
  readonly auth: AuthClient;
  private syncTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: ClientOptions) {
    const events = new EventEmitter<ClientEvents>();
    const transport = createTransport(options, events);
    super(
      { transport, watches: new WatchManager(transport), keepAlives: new KeepAliveStream(transport) },
      identityMapper,
      Buffer.alloc(0),
    );
    this.events = events;
    this.cluster = new ClusterClient(transport);
    this.maintenance = new MaintenanceClient(transport);
    this.auth = new AuthClient(transport);
    if (options.autoSyncIntervalMs !== undefined) this.startAutoSync(options.autoSyncIntervalMs);
  }

  /** Drops history before `revision` for the whole cluster (not limited to a namespace). */
  compact(revision: bigint, options?: CompactOptions): Promise<ResponseHeader> {
    return this.kv.compact(revision, options);
  }

  /** Current endpoint URLs. */
  get endpoints(): string[] {
    return this.core.transport.pool.all().map((e) => e.url);
  }

  /** Replaces the endpoints with the client URLs of the cluster's voting members. */
  async syncEndpoints(): Promise<string[]> {
    const members = await this.cluster.memberList();
    const urls = members.filter((m) => !m.isLearner).flatMap((m) => m.clientUrls);
    const current = this.endpoints;
    if (urls.length > 0 && (urls.length !== current.length || urls.some((u) => !current.includes(u)))) {
      this.core.transport.pool.setEndpoints(urls);
      this.events.emit("endpoints-changed", urls);
    }
    return this.endpoints;
  }

  private startAutoSync(intervalMs: number): void {
    if (!(intervalMs > 0)) throw badRequest("autoSyncIntervalMs must be positive");
    this.syncTimer = setInterval(() => void this.syncEndpoints().catch(() => undefined), intervalMs);
    this.syncTimer.unref();
  }

  /** Closes watchers, keep-alives (without revoking) and channels. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.syncTimer);
    this.core.watches.close();
    this.core.keepAlives.close();
    this.core.transport.pool.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function createTransport(options: ClientOptions, events: EventEmitter<ClientEvents>): Transport {
  if (typeof options !== "object" || !Array.isArray(options.endpoints)) {
    throw badRequest("options.endpoints must be a list of endpoint URLs");
  }
  const picker =
    typeof options.balancer === "object"
      ? options.balancer
      : createPicker<Endpoint>(options.balancer ?? "round-robin");
  const pool = new EndpointPool(
    options.endpoints,
    {
      credentials: channelCredentials(options),
      channelOptions: channelOptions(options),
      probeInitialMs: options.probe?.initialMs ?? 100,
      probeMaxMs: options.probe?.maxMs ?? 2_000,
      handshakeTimeoutMs: positive(options.handshakeTimeoutMs ?? 5_000, "handshakeTimeoutMs"),
    },
    picker,
    events,
  );
  return new Transport(pool, events, {
    defaultTimeoutMs: options.defaultTimeoutMs,
    retries: options.retry?.retries ?? 8,
    retryMinMs: options.retry?.minDelayMs ?? 25,
    retryMaxMs: options.retry?.maxDelayMs ?? 1_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 3_000,
    attemptTimeoutMs: positive(options.attemptTimeoutMs ?? 2_000, "attemptTimeoutMs"),
    auth: options.auth,
  });
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0))
    throw badRequest(`${name} must be a positive number, got ${value}`);
  return value;
}

function channelCredentials(options: ClientOptions): ChannelCredentials {
  const secure = options.endpoints.map((url) => parseEndpoint(url).secure);
  if (secure.some((s) => s) && secure.some((s) => !s) && options.tls === undefined) {
    throw badRequest("endpoints mix http:// and https://; use one scheme (or set tls for all)");
  }
  const tls = options.tls;
  if (tls === undefined && !secure.some((s) => s)) return credentials.createInsecure();
  if ((tls?.cert === undefined) !== (tls?.key === undefined))
    throw badRequest("tls.cert and tls.key go together");
  return credentials.createSsl(tls?.ca ?? null, tls?.key ?? null, tls?.cert ?? null);
}

function channelOptions(options: ClientOptions): ChannelOptions {
  return {
    // A silent member is noticed within ~8 s (ping after 5 s, no ack 3 s later), not 40 s.
    "grpc.keepalive_time_ms": options.keepalive?.timeMs ?? 5_000,
    "grpc.keepalive_timeout_ms": options.keepalive?.timeoutMs ?? 3_000,
    "grpc.keepalive_permit_without_calls": options.keepalive?.permitWithoutCalls === true ? 1 : 0,
    // Reconnect quickly after a member restarts; grpc-js defaults to 1 s growing to 120 s.
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 2_000,
    // etcd answers ranges of any size (MaxSendMsgSize = MaxInt32).
    "grpc.max_receive_message_length": -1,
    // One connection per endpoint per client, not shared with other clients in the process.
    "grpc.use_local_subchannel_pool": 1,
    // Retries are this client's own policy (safe calls only); grpc-js's layer and channelz
    // bookkeeping only add per-call cost.
    "grpc.enable_retries": 0,
    "grpc.enable_channelz": 0,
    ...options.channelOptions,
  };
}
