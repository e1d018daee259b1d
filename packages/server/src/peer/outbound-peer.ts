import { connect, type Socket } from "node:net";
import { PeerProtocolError } from "./errors.js";
import { encodeFrame, FrameKind, FrameReader } from "./frame.js";
import { encodeHello, hex } from "./handshake.js";
import type { PeerContext, PeerLogger } from "./options.js";
import { parsePeerUrl } from "./peer-url.js";
import { PendingRequests } from "./pending-requests.js";
import { decodeResponse, encodeRequest } from "./request-frames.js";

const PING_FRAME = encodeFrame(FrameKind.ping);
/** Responses and pongs are small; anything bigger on an outgoing stream is a protocol error. */
const MAX_RESPONSE_FRAME_BYTES = 64 * 1024 * 1024;

/** What an {@link OutboundPeer} needs from its transport. */
export interface OutboundContext extends PeerContext {
  readonly logger: PeerLogger;
  /** The connection failed; messages may have been lost. */
  readonly onConnectionLost: (id: bigint) => void;
}

interface QueuedFrame {
  readonly frame: Buffer;
  readonly messages: number;
}

/**
 * Our one outgoing stream connection to a peer: raft message batches, peer RPC requests and
 * keepalive pings go out on it; responses and pongs come back on it. Connected on first use, then
 * kept up: after a failure it redials after a backoff (doubling, capped), trying each URL in turn.
 * While it is backing off, messages are dropped rather than queued (Raft re-sends).
 */
export class OutboundPeer {
  private socket: Socket | undefined;
  private state: "idle" | "open" | "backoff" | "closed" = "idle";
  private readonly queue: QueuedFrame[] = [];
  private queuedBytes = 0;
  private queuedMessages = 0;
  private backoffMs: number;
  private urlIndex = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private lastReceivedAt = 0;
  private connected = false;
  /** The peer answered on the current connection: the handshake was accepted. */
  private active = false;
  private dropping = false;
  private readonly requests: PendingRequests;

  constructor(
    readonly id: bigint,
    private urls: readonly string[],
    private readonly ctx: OutboundContext,
  ) {
    this.backoffMs = ctx.limits.minBackoffMs;
    this.requests = new PendingRequests(id);
  }

  /** Replaces the peer's URLs; the next dial uses them (a live connection is kept). */
  setUrls(urls: readonly string[]): void {
    this.urls = urls;
    this.urlIndex = 0;
  }

  /**
   * Sends one frame holding `messageCount` raft messages. Returns false when it was dropped: the
   * peer is unreachable (backing off) or its queue is over the bound.
   */
  sendMessages(frame: Buffer, messageCount: number): boolean {
    if (this.state === "idle") this.dial();
    const accepted = this.state === "open" && this.write(frame, messageCount);
    if (!accepted && this.state !== "closed") {
      const fields = { peer: hex(this.id), messages: messageCount, state: this.state };
      // A full queue is news once per episode; drops while the peer is down were announced by the loss.
      if (!this.dropping && this.state === "open") this.ctx.logger.warn(fields, "dropping messages to peer");
      else this.ctx.logger.debug(fields, "dropping messages to peer");
    }
    this.dropping = !accepted;
    return accepted;
  }

  /** Sends a peer RPC request; see {@link PeerTransport.request}. */
  request(kind: string, payload: Uint8Array, timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (this.state === "idle") this.dial();
    if (this.state !== "open") {
      return Promise.reject(new Error(`peer ${hex(this.id)} is unreachable (${this.state})`));
    }
    const { id, result } = this.requests.add(kind, timeoutMs, signal);
    let frame: Buffer;
    try {
      frame = encodeRequest({ id, kind, payload });
    } catch (error) {
      this.requests.settle(id, error as Error);
      return result;
    }
    if (!this.write(frame, 0)) this.requests.settle(id, new Error(`peer ${hex(this.id)}: send queue full`));
    return result;
  }

  /** Stops for good: destroys the connection, rejects pending requests. */
  close(reason: string): void {
    this.state = "closed";
    clearTimeout(this.retryTimer);
    this.teardown(reason);
  }

  /** Writes now if the socket has room and nothing is queued ahead, else queues within the bounds. */
  private write(frame: Buffer, messages: number): boolean {
    const socket = this.socket!;
    if (this.queue.length === 0 && !socket.writableNeedDrain) {
      socket.write(frame);
      return true;
    }
    const { maxQueuedBytes, maxQueuedMessages } = this.ctx.limits;
    if (
      this.queuedBytes + frame.length > maxQueuedBytes ||
      this.queuedMessages + messages > maxQueuedMessages
    ) {
      return false;
    }
    this.queue.push({ frame, messages });
    this.queuedBytes += frame.length;
    this.queuedMessages += messages;
    return true;
  }

  private flush(): void {
    const socket = this.socket;
    if (socket === undefined) return;
    // cork: what is queued leaves in as few segments as possible.
    socket.cork();
    while (this.queue.length > 0 && !socket.writableNeedDrain) {
      const next = this.queue.shift()!;
      this.queuedBytes -= next.frame.length;
      this.queuedMessages -= next.messages;
      socket.write(next.frame);
    }
    socket.uncork();
  }

  private dial(): void {
    const url = this.urls[this.urlIndex % Math.max(1, this.urls.length)];
    this.urlIndex++;
    let address: { host: string; port: number };
    try {
      if (url === undefined) throw new Error("no peer URLs");
      address = parsePeerUrl(url);
    } catch (error) {
      this.ctx.logger.error({ peer: hex(this.id), url, err: String(error) }, "cannot dial peer");
      this.scheduleRedial();
      return;
    }
    const socket = connect({ host: address.host, port: address.port, noDelay: true });
    this.socket = socket;
    this.state = "open";
    this.connected = false;
    this.active = false;
    this.lastReceivedAt = performance.now();
    const reader = new FrameReader(MAX_RESPONSE_FRAME_BYTES);
    // Written before the TCP connect completes: node buffers it, and messages follow it at once.
    socket.write(
      encodeHello({ purpose: "stream", clusterId: this.ctx.clusterId, from: this.ctx.self, to: this.id }),
    );
    socket.once("connect", () => {
      this.connected = true;
      this.ctx.logger.debug({ peer: hex(this.id), url }, "connected to peer");
    });
    socket.on("data", (chunk: Buffer) => this.onData(socket, reader, chunk));
    socket.on("drain", () => this.flush());
    socket.on("error", (error) => {
      this.ctx.logger.debug({ peer: hex(this.id), url, err: error.message }, "peer connection error");
    });
    socket.on("close", () => this.onClose(socket));
    this.keepaliveTimer = setInterval(() => this.keepalive(socket), this.ctx.limits.keepaliveIntervalMs);
    this.keepaliveTimer.unref();
  }

  private keepalive(socket: Socket): void {
    const silentMs = performance.now() - this.lastReceivedAt;
    if (silentMs > this.ctx.limits.deadPeerTimeoutMs) {
      this.ctx.logger.warn(
        { peer: hex(this.id), silentMs: Math.round(silentMs) },
        this.connected ? "peer stopped answering; dropping the connection" : "peer connect timed out",
      );
      socket.destroy();
      return;
    }
    if (this.connected) socket.write(PING_FRAME);
  }

  private onData(socket: Socket, reader: FrameReader, chunk: Buffer): void {
    this.lastReceivedAt = performance.now();
    if (!this.active) {
      // Any answer proves the handshake was accepted: the next failure starts from the short delay.
      this.active = true;
      this.backoffMs = this.ctx.limits.minBackoffMs;
      this.ctx.logger.info({ peer: hex(this.id) }, "peer became active");
    }
    try {
      for (const frame of reader.push(chunk)) {
        if (frame.kind === FrameKind.pong) continue;
        if (frame.kind === FrameKind.response) {
          const response = decodeResponse(frame.payload);
          this.requests.settle(response.id, response.ok ? response.payload : new Error(response.message));
        } else if (frame.kind === FrameKind.refuse) {
          this.ctx.logger.warn(
            { peer: hex(this.id), reason: frame.payload.toString("utf8") },
            "peer refused the connection",
          );
          socket.destroy();
          return;
        } else {
          throw new PeerProtocolError(`unexpected frame kind ${frame.kind} on an outgoing stream`);
        }
      }
    } catch (error) {
      this.ctx.logger.warn(
        { peer: hex(this.id), err: String(error) },
        "bad data from peer; dropping the connection",
      );
      socket.destroy();
    }
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    const lostMessages = this.queuedMessages;
    this.teardown(`connection to peer ${hex(this.id)} lost`);
    if (this.state === "closed") return;
    // Warn when a working link goes; failed redials of a peer that is down are only debug noise.
    const fields = { peer: hex(this.id), lostMessages };
    if (this.active) this.ctx.logger.warn(fields, "peer became inactive");
    else this.ctx.logger.debug(fields, "peer connection closed");
    this.scheduleRedial();
    this.ctx.onConnectionLost(this.id);
  }

  private teardown(reason: string): void {
    clearInterval(this.keepaliveTimer);
    this.socket?.destroy();
    this.socket = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.queuedMessages = 0;
    this.requests.rejectAll(reason);
  }

  private scheduleRedial(): void {
    this.state = "backoff";
    this.retryTimer = setTimeout(() => {
      if (this.state === "backoff") this.dial();
    }, this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, this.ctx.limits.maxBackoffMs);
  }
}
