import type { Message } from "@keyway/raft";
import type { MembersAnswer } from "./members-query.js";

/** A structured log call, as pino's: fields first, then the message. */
export type PeerLogFn = (fields: Record<string, unknown>, message: string) => void;

/** The logger the transport writes to; a pino logger fits. Ids are logged as hex strings. */
export interface PeerLogger {
  debug: PeerLogFn;
  info: PeerLogFn;
  warn: PeerLogFn;
  error: PeerLogFn;
}

/** Bounds and timings of the transport. Every field has a default (see {@link DEFAULT_PEER_LIMITS}). */
export interface PeerTransportLimits {
  /** Bytes queued for one peer (beyond the socket's own buffer) before messages to it are dropped. */
  maxQueuedBytes: number;
  /** Messages queued for one peer before messages to it are dropped. */
  maxQueuedMessages: number;
  /** Largest frame payload sent or accepted on a message stream; larger batches are split. */
  maxFrameBytes: number;
  /** Slice size of snapshot data on a snapshot connection. */
  snapshotChunkBytes: number;
  /** Largest snapshot data accepted from a peer. */
  maxSnapshotBytes: number;
  /** How often an idle outgoing connection sends a keepalive ping. */
  keepaliveIntervalMs: number;
  /** No byte from a peer for this long while a ping is outstanding: the connection is dropped. */
  deadPeerTimeoutMs: number;
  /** First reconnect delay; doubles per failure up to `maxBackoffMs`. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Requests a peer may have in progress on one connection; more are answered with an error. */
  maxIncomingRequests: number;
}

/** Defaults: 64 MiB / 10k messages queued per peer, 3 s dead-peer detection, 50 ms → 1 s backoff. */
export const DEFAULT_PEER_LIMITS: Readonly<PeerTransportLimits> = {
  maxQueuedBytes: 64 * 1024 * 1024,
  maxQueuedMessages: 10_000,
  maxFrameBytes: 64 * 1024 * 1024,
  snapshotChunkBytes: 1024 * 1024,
  maxSnapshotBytes: 4 * 1024 * 1024 * 1024,
  keepaliveIntervalMs: 1000,
  deadPeerTimeoutMs: 3000,
  minBackoffMs: 50,
  maxBackoffMs: 1000,
  maxIncomingRequests: 1024,
};

/** What every connection of a transport knows: who we are, our cluster, the bounds. */
export interface PeerContext {
  readonly self: bigint;
  readonly clusterId: bigint;
  readonly limits: Readonly<PeerTransportLimits>;
}

/** How a {@link PeerTransport} is set up and whom it tells what happened. */
export interface PeerTransportOptions {
  /** This member's id. */
  readonly self: bigint;
  /** Handshakes from another cluster are refused (logged, connection closed). */
  readonly clusterId: bigint;
  /** `http://host:port` URLs to listen on (port 0 picks one); the scheme only names it. */
  readonly listenUrls: readonly string[];
  /** Other members' peer URLs; each is tried in turn when connecting. */
  readonly peers: ReadonlyMap<bigint, readonly string[]>;
  /** Each received raft message, in order per sender (a MsgSnap arrives on its own connection). */
  onMessage(message: Message): void;
  /** Messages to `id` were dropped or its connection failed (→ RawNode.reportUnreachable). */
  onUnreachable(id: bigint): void;
  /** Outcome of a MsgSnap to `id` (→ RawNode.reportSnapshot). */
  onSnapshotStatus(id: bigint, delivered: boolean): void;
  /**
   * Serves a peer's {@link PeerTransport.request}. A rejection travels back as the error's message;
   * `signal` aborts when the connection or the transport closes.
   */
  onRequest(from: bigint, kind: string, payload: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
  /**
   * Answers a joining member's members query (members-query.ts); without it such a query is
   * refused.
   */
  onMembersQuery?(): MembersAnswer;
  readonly logger: PeerLogger;
  /** Overrides of {@link DEFAULT_PEER_LIMITS}. */
  readonly limits?: Partial<PeerTransportLimits>;
}
