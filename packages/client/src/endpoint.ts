import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  connectivityState,
  Metadata,
  status,
} from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { Backoff } from "./backoff.js";
import { badRequest } from "./errors.js";
import type { Pickable } from "./picker.js";

/** An endpoint URL split into the gRPC target and its scheme. */
export interface ParsedEndpoint {
  /** `host:port` as grpc-js dials it. */
  readonly address: string;
  /** True for `https://` URLs. */
  readonly secure: boolean;
}

/** Parses `http://host:port`, `https://host:port` or a bare `host:port`. */
export function parseEndpoint(url: string): ParsedEndpoint {
  const match = /^(?:(https?):\/\/)?([^/]+?)\/?$/.exec(url);
  if (match === null)
    throw badRequest(`invalid endpoint ${JSON.stringify(url)}: expected http(s)://host:port`);
  const [, scheme, address] = match as unknown as [string, string | undefined, string];
  if (!/:\d+$/.test(address)) throw badRequest(`endpoint ${JSON.stringify(url)} has no port`);
  return { address, secure: scheme === "https" };
}

/** Called when an endpoint goes down or comes back. */
export type HealthListener = (endpoint: Endpoint, healthy: boolean, cause?: unknown) => void;

/** Settings shared by all endpoints of one client. */
export interface EndpointSettings {
  readonly credentials: ChannelCredentials;
  readonly channelOptions: ChannelOptions;
  /** Backoff between probes of a down endpoint. */
  readonly probeInitialMs: number;
  readonly probeMaxMs: number;
  /**
   * Longest a connection attempt may stay CONNECTING before the channel is replaced. grpc-js
   * has no such bound: a TCP connection that is accepted but never answers the HTTP/2 handshake
   * (a member frozen, or a partition that dropped packets mid-connect) keeps the channel
   * CONNECTING forever, even after the network heals.
   */
  readonly handshakeTimeoutMs: number;
  readonly onHealth: HealthListener;
}

const STATUS = etcdserverpb.MaintenanceService.status;

/** gRPC codes that mean the member did not answer (any other status is an answer). */
const NO_ANSWER: ReadonlySet<number> = new Set([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.CANCELLED,
]);

/**
 * One etcd member as the client sees it: its own grpc-js channel, a count of calls in flight
 * (for least-connection balancing) and a health flag. An endpoint marked down (a transport
 * failure, or suspect: a call or keep-alive got no answer in time) is probed back with
 * exponential backoff; calls avoid it meanwhile.
 */
export class Endpoint implements Pickable {
  readonly url: string;
  readonly address: string;
  /** Unary calls and streams currently using this endpoint. */
  inflight = 0;
  private channelClient: Client;
  private isHealthy = true;
  private probeTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private closed = false;

  constructor(
    url: string,
    private readonly settings: EndpointSettings,
  ) {
    this.url = url;
    this.address = parseEndpoint(url).address;
    this.channelClient = this.openChannel();
    this.backoff = new Backoff({ initialMs: settings.probeInitialMs, maxMs: settings.probeMaxMs });
  }

  /** The grpc-js client of the endpoint's current channel; take it anew for every call. */
  get client(): Client {
    return this.channelClient;
  }

  private openChannel(): Client {
    const client = new Client(this.address, this.settings.credentials, this.settings.channelOptions);
    this.followState(client);
    return client;
  }

  /**
   * Follows the channel's connectivity: when it enters CONNECTING, a timer replaces the channel
   * if it is still CONNECTING after `handshakeTimeoutMs` (calls waiting on it fail and go on).
   */
  private followState(client: Client): void {
    const channel = client.getChannel();
    const state = channel.getConnectivityState(false);
    if (state === connectivityState.SHUTDOWN || this.closed) return;
    if (state === connectivityState.CONNECTING && this.handshakeTimer === undefined) {
      this.handshakeTimer = setTimeout(() => {
        this.handshakeTimer = undefined;
        if (this.closed || client !== this.channelClient) return;
        if (channel.getConnectivityState(false) !== connectivityState.CONNECTING) return;
        this.channelClient = this.openChannel();
        client.close();
      }, this.settings.handshakeTimeoutMs);
      this.handshakeTimer.unref();
    } else if (state !== connectivityState.CONNECTING && this.handshakeTimer !== undefined) {
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = undefined;
    }
    // Infinity: grpc-js arms no timer; closing the channel (SHUTDOWN) ends the watch.
    channel.watchConnectivityState(state, Number.POSITIVE_INFINITY, () => this.followState(client));
  }

  /** False while the endpoint is marked down. */
  get healthy(): boolean {
    return this.isHealthy;
  }

  /** True when the channel has an established connection. */
  isReady(): boolean {
    return this.channelClient.getChannel().getConnectivityState(false) === connectivityState.READY;
  }

  /**
   * Connects if needed; resolves once connected. Rejects at `deadline`, or at once when the
   * channel reports a failed connection attempt (refused, reset), so a dead member costs nothing
   * and only a silent one (black-holed) costs the wait.
   */
  waitReady(deadline: number): Promise<void> {
    const channel = this.channelClient.getChannel();
    return new Promise((resolve, reject) => {
      const check = () => {
        const state = channel.getConnectivityState(true);
        if (state === connectivityState.READY) return resolve();
        if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN) {
          return reject(new Error(`cannot connect to ${this.url} (${connectivityState[state]})`));
        }
        channel.watchConnectivityState(state, deadline, (err) => (err === undefined ? check() : reject(err)));
      };
      check();
    });
  }

  /**
   * Resolves once the member answers a Status call; rejects at `deadline`. A connection that
   * looks READY proves nothing about a member that went silent without closing it, so the probe
   * waits for a real answer. Any answer counts, an auth or permission error included.
   */
  async probe(deadline: number): Promise<void> {
    await this.waitReady(deadline);
    await new Promise<void>((resolve, reject) => {
      this.channelClient.makeUnaryRequest(
        STATUS.path,
        STATUS.requestSerialize,
        STATUS.responseDeserialize,
        {},
        new Metadata(),
        { deadline },
        (err) => (err === null || !NO_ANSWER.has(err.code) ? resolve() : reject(err)),
      );
    });
  }

  /** Marks the endpoint down (failed or suspect) and starts probing it. */
  markDown(cause?: unknown): void {
    if (!this.isHealthy || this.closed) return;
    this.isHealthy = false;
    this.settings.onHealth(this, false, cause);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      if (this.closed) return;
      this.probe(Date.now() + this.settings.probeMaxMs).then(
        () => this.markUp(),
        () => this.scheduleProbe(),
      );
    }, this.backoff.next());
    this.probeTimer.unref();
  }

  private markUp(): void {
    if (this.isHealthy || this.closed) return;
    this.isHealthy = true;
    this.backoff.reset();
    this.settings.onHealth(this, true);
  }

  /** Closes the channel; calls still running on it fail. */
  close(): void {
    this.closed = true;
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.channelClient.close();
  }
}
