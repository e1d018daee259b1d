import { createServer, type Server, type Socket } from "node:net";
import type { Message } from "@keyway/raft";
import { hex } from "./handshake.js";
import { InboundConnection } from "./inbound-connection.js";
import { encodeMessageFrames } from "./message-frames.js";
import { DEFAULT_PEER_LIMITS, type PeerTransportLimits, type PeerTransportOptions } from "./options.js";
import { OutboundPeer } from "./outbound-peer.js";
import { formatPeerUrl, parsePeerUrl } from "./peer-url.js";
import { uploadSnapshot } from "./snapshot-sender.js";

/** Options of one {@link PeerTransport.request} call. */
export interface PeerRequestOptions {
  /** Rejects with an Error saying "timed out" after this long. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * The network between cluster members: raft messages, snapshots and a small peer RPC over our own
 * framed protocol on TCP (docs/architecture.md, "Peer transport"). One outgoing connection per
 * peer carries our messages to it in order; peers' connections to us carry theirs. A MsgSnap goes
 * on a connection of its own. Nothing here blocks or throws into Raft: failures become
 * `onUnreachable` / `onSnapshotStatus(id, false)` and Raft re-sends.
 */
export class PeerTransport {
  private readonly limits: Readonly<PeerTransportLimits>;
  private readonly peerUrls = new Map<bigint, readonly string[]>();
  private readonly outbound = new Map<bigint, OutboundPeer>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly uploads = new Map<bigint, AbortController>();
  private readonly servers: Server[] = [];
  private closing: Promise<void> | undefined;
  /** The URLs actually listened on (port 0 resolved), in `listenUrls` order. */
  readonly boundAddresses: string[] = [];

  private constructor(private readonly options: PeerTransportOptions) {
    this.limits = { ...DEFAULT_PEER_LIMITS, ...options.limits };
    for (const [id, urls] of options.peers) this.peerUrls.set(id, urls);
  }

  /** Binds every listen URL (port 0 allowed); rejects, with nothing left open, if one fails. */
  static async start(options: PeerTransportOptions): Promise<PeerTransport> {
    const transport = new PeerTransport(options);
    try {
      for (const url of options.listenUrls) await transport.listen(url);
    } catch (error) {
      await transport.close();
      throw error;
    }
    return transport;
  }

  private async listen(url: string): Promise<void> {
    const { host, port } = parsePeerUrl(url);
    const server = createServer((socket) => this.accept(socket));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (error) =>
      this.options.logger.error({ url, err: error.message }, "peer listener error"),
    );
    const address = server.address();
    if (address === null || typeof address === "string")
      throw new Error(`peer listener ${url} has no TCP address`);
    this.boundAddresses.push(formatPeerUrl(address.address, address.port));
  }

  private accept(socket: Socket): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    const { self, clusterId, logger } = this.options;
    const ctx = {
      self,
      clusterId,
      limits: this.limits,
      logger,
      deliver: (message: Message) => this.guard("onMessage", () => this.options.onMessage(message)),
      // async: a handler that throws synchronously still becomes an error response.
      serve: async (from: bigint, kind: string, payload: Uint8Array, signal: AbortSignal) =>
        this.options.onRequest(from, kind, payload, signal),
      membersQuery: this.options.onMembersQuery?.bind(this.options),
    };
    this.inbound.add(new InboundConnection(socket, ctx, (connection) => this.inbound.delete(connection)));
  }

  /**
   * Queues messages for their peers and returns at once. Messages for one peer in one call go out
   * in one write. Never throws: a message that cannot go out is dropped and reported through
   * `onUnreachable` (or `onSnapshotStatus(to, false)` for a MsgSnap).
   */
  send(messages: readonly Message[]): void {
    if (this.closing !== undefined) return;
    const byPeer = new Map<bigint, Message[]>();
    for (const message of messages) {
      if (message.type === "MsgSnap") this.sendSnapshot(message);
      else if (byPeer.has(message.to)) byPeer.get(message.to)!.push(message);
      else byPeer.set(message.to, [message]);
    }
    for (const [to, batch] of byPeer) this.sendBatch(to, batch);
  }

  private sendBatch(to: bigint, batch: Message[]): void {
    const peer = this.peer(to);
    if (peer === undefined) {
      this.options.logger.debug(
        { peer: hex(to), messages: batch.length },
        "dropping messages to an unknown peer",
      );
      this.reportUnreachable(to);
      return;
    }
    let delivered = true;
    try {
      for (const { frame, count } of encodeMessageFrames(batch, this.limits.maxFrameBytes)) {
        delivered = peer.sendMessages(frame, count) && delivered;
      }
    } catch (error) {
      this.options.logger.error({ peer: hex(to), err: String(error) }, "cannot encode messages to peer");
      delivered = false;
    }
    if (!delivered) this.reportUnreachable(to);
  }

  private sendSnapshot(message: Message): void {
    const to = message.to;
    const urls = this.peerUrls.get(to);
    if (urls === undefined || this.uploads.has(to)) {
      const reason = urls === undefined ? "unknown peer" : "a snapshot to this peer is in flight";
      this.options.logger.warn({ peer: hex(to), reason }, "dropping snapshot");
      this.guard("onSnapshotStatus", () => this.options.onSnapshotStatus(to, false));
      return;
    }
    const controller = new AbortController();
    this.uploads.set(to, controller);
    const started = performance.now();
    const { self, clusterId, logger } = this.options;
    uploadSnapshot({ self, clusterId, limits: this.limits }, urls, message, controller.signal).then(
      () => {
        const elapsedMs = Math.round(performance.now() - started);
        logger.info({ peer: hex(to), bytes: message.snapshot!.data.length, elapsedMs }, "snapshot sent");
        this.finishUpload(to, controller, true);
      },
      (error: unknown) => {
        logger.warn({ peer: hex(to), err: String(error) }, "snapshot send failed");
        this.finishUpload(to, controller, false);
      },
    );
  }

  private finishUpload(to: bigint, controller: AbortController, delivered: boolean): void {
    if (this.uploads.get(to) === controller) this.uploads.delete(to);
    if (this.closing !== undefined || controller.signal.aborted) return;
    this.guard("onSnapshotStatus", () => this.options.onSnapshotStatus(to, delivered));
  }

  /**
   * Calls `kind` on peer `to` (its `onRequest`) over our stream connection to it. Rejects with an
   * Error: the remote handler's message, "timed out" after `timeoutMs`, unreachable while the
   * connection is down (no waiting for a redial), or closed.
   */
  request(to: bigint, kind: string, payload: Uint8Array, options: PeerRequestOptions): Promise<Uint8Array> {
    if (this.closing !== undefined) return Promise.reject(new Error("peer transport closed"));
    const peer = this.peer(to);
    if (peer === undefined) return Promise.reject(new Error(`unknown peer ${hex(to)}`));
    return peer.request(kind, payload, options.timeoutMs, options.signal);
  }

  /** Adds a member's peer URLs (or replaces them, as {@link updatePeer}). */
  addPeer(id: bigint, urls: readonly string[]): void {
    this.updatePeer(id, urls);
  }

  /** Replaces a member's peer URLs; the next dial uses them. */
  updatePeer(id: bigint, urls: readonly string[]): void {
    this.peerUrls.set(id, urls);
    this.outbound.get(id)?.setUrls(urls);
  }

  /** Forgets a member: its connection is closed and its snapshot upload aborted (no status reported). */
  removePeer(id: bigint): void {
    this.peerUrls.delete(id);
    this.outbound.get(id)?.close(`peer ${hex(id)} removed`);
    this.outbound.delete(id);
    this.uploads.get(id)?.abort();
  }

  /** Stops listening, drops every connection, rejects pending requests. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** `await using` support: same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async shutdown(): Promise<void> {
    for (const peer of this.outbound.values()) peer.close("peer transport closed");
    this.outbound.clear();
    for (const controller of this.uploads.values()) controller.abort();
    for (const connection of this.inbound) connection.close();
    await Promise.all(
      this.servers
        .filter((server) => server.listening)
        .map((server) => new Promise((resolve) => server.close(resolve))),
    );
  }

  private peer(id: bigint): OutboundPeer | undefined {
    const existing = this.outbound.get(id);
    if (existing !== undefined) return existing;
    const urls = this.peerUrls.get(id);
    if (urls === undefined || id === this.options.self) return undefined;
    const { self, clusterId, logger } = this.options;
    const onConnectionLost = (lost: bigint) => this.reportUnreachable(lost);
    const peer = new OutboundPeer(id, urls, {
      self,
      clusterId,
      limits: this.limits,
      logger,
      onConnectionLost,
    });
    this.outbound.set(id, peer);
    return peer;
  }

  private reportUnreachable(id: bigint): void {
    this.guard("onUnreachable", () => this.options.onUnreachable(id));
  }

  /** Runs a callback of the application; a throw is a bug there, logged, never raised into I/O. */
  private guard(name: string, callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.options.logger.error({ callback: name, err: String(error) }, "peer transport callback threw");
    }
  }
}
