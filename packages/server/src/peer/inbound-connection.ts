import type { Socket } from "node:net";
import type { Message } from "@keyway/raft";
import { PeerProtocolError } from "./errors.js";
import { encodeFrame, type Frame, FrameKind, FrameReader } from "./frame.js";
import { decodeHello, type Hello, helloRefusal, hex } from "./handshake.js";
import { encodeMembersAnswer, type MembersAnswer } from "./members-query.js";
import { decodeMessages } from "./message-codec.js";
import type { PeerContext, PeerLogger } from "./options.js";
import { decodeRequest, encodeResponse, type RequestFrame } from "./request-frames.js";
import { SnapshotReceiver } from "./snapshot-receiver.js";

const PONG_FRAME = encodeFrame(FrameKind.pong);
const ACK_FRAME = encodeFrame(FrameKind.snapshotAck);

/** What an {@link InboundConnection} needs from its transport. */
export interface InboundContext extends PeerContext {
  readonly logger: PeerLogger;
  /** Hands a received message to raft (never throws). */
  readonly deliver: (message: Message) => void;
  /** Serves a peer RPC request. */
  readonly serve: (
    from: bigint,
    kind: string,
    payload: Uint8Array,
    signal: AbortSignal,
  ) => Promise<Uint8Array>;
  /** Answers a members query; undefined when this transport serves none. */
  readonly membersQuery: (() => MembersAnswer) | undefined;
}

/**
 * A connection a peer opened to us. The first frame must be an acceptable hello; then it carries
 * either the peer's message stream (messages, requests, pings) or one snapshot. Any protocol
 * violation drops this connection only.
 */
export class InboundConnection {
  private hello: Hello | undefined;
  /** Refused, or a members query answered: later bytes are ignored. */
  private finished = false;
  private snapshot: SnapshotReceiver | undefined;
  private readonly reader: FrameReader;
  private readonly abort = new AbortController();
  private activeRequests = 0;
  private lastPongAt = 0;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: InboundContext,
    onClosed: (connection: InboundConnection) => void,
  ) {
    this.reader = new FrameReader(ctx.limits.maxFrameBytes);
    socket.setNoDelay(true);
    // The dialing side pings every keepaliveIntervalMs; silence this long means it is gone.
    socket.setTimeout(2 * ctx.limits.deadPeerTimeoutMs, () => this.drop("idle"));
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) =>
      this.ctx.logger.debug({ ...this.fields(), err: error.message }, "peer socket error"),
    );
    socket.on("close", () => {
      this.abort.abort();
      onClosed(this);
    });
  }

  /** Drops the connection (transport closing). */
  close(): void {
    this.socket.destroy();
  }

  private fields(): Record<string, unknown> {
    return {
      remote: `${this.socket.remoteAddress}:${this.socket.remotePort}`,
      peer: this.hello && hex(this.hello.from),
    };
  }

  private drop(reason: string): void {
    this.ctx.logger.warn({ ...this.fields(), reason }, "dropping peer connection");
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    // Bytes arriving are acknowledged with a pong now and then, so a peer that is still reading a
    // long frame (a slow link) is not taken for dead by the sender while its ping waits behind it.
    if (this.hello !== undefined && this.snapshot === undefined)
      this.pongEvery(this.ctx.limits.keepaliveIntervalMs / 2);
    try {
      for (const frame of this.reader.push(chunk)) {
        if (this.finished || this.socket.destroyed) return;
        this.onFrame(frame);
      }
    } catch (error) {
      // Whatever went wrong, only this connection pays for it.
      if (!(error instanceof PeerProtocolError)) {
        this.ctx.logger.error({ ...this.fields(), err: String(error) }, "peer connection failed");
      }
      this.drop(String(error));
    }
  }

  private onFrame(frame: Frame): void {
    const hello = this.hello;
    if (hello === undefined) {
      this.onHello(frame);
      return;
    }
    if (this.snapshot !== undefined) {
      const message = this.snapshot.push(frame);
      if (message === undefined) return;
      this.checkAddress(message, hello);
      this.ctx.deliver(message);
      this.socket.end(ACK_FRAME);
      return;
    }
    switch (frame.kind) {
      case FrameKind.messages: {
        // Decode the whole batch first: a corrupted frame delivers nothing.
        const messages = decodeMessages(frame.payload);
        for (const message of messages) this.checkAddress(message, hello);
        for (const message of messages) this.ctx.deliver(message);
        return;
      }
      case FrameKind.request:
        this.serve(hello.from, decodeRequest(frame.payload));
        return;
      case FrameKind.ping:
        this.pongEvery(0);
        return;
      default:
        throw new PeerProtocolError(`unexpected frame kind ${frame.kind} on a message stream`);
    }
  }

  private onHello(frame: Frame): void {
    if (frame.kind !== FrameKind.hello) throw new PeerProtocolError("the first frame is not a hello");
    const hello = decodeHello(frame.payload);
    const refusal =
      hello.purpose === "join" && this.ctx.membersQuery === undefined
        ? "this member answers no members query"
        : helloRefusal(hello, this.ctx.self, this.ctx.clusterId);
    if (refusal !== undefined) {
      this.finished = true;
      this.ctx.logger.warn({ ...this.fields(), reason: refusal }, "refused peer connection");
      this.socket.end(encodeFrame(FrameKind.refuse, Buffer.from(refusal, "utf8")));
      return;
    }
    this.hello = hello;
    if (hello.purpose === "join") {
      // One answer, then the connection is done.
      this.finished = true;
      this.ctx.logger.info({ ...this.fields() }, "answering a joining member's members query");
      this.socket.end(encodeMembersAnswer(this.ctx.membersQuery!()));
      return;
    }
    if (hello.purpose === "snapshot") this.snapshot = new SnapshotReceiver(this.ctx.limits.maxSnapshotBytes);
    this.ctx.logger.debug({ ...this.fields(), purpose: hello.purpose }, "accepted peer connection");
  }

  private pongEvery(intervalMs: number): void {
    const now = performance.now();
    if (now - this.lastPongAt < intervalMs || this.socket.destroyed) return;
    this.lastPongAt = now;
    this.socket.write(PONG_FRAME);
  }

  /** A message must come from the member that said hello and be for us. */
  private checkAddress(message: Message, hello: Hello): void {
    if (message.from !== hello.from || message.to !== this.ctx.self) {
      throw new PeerProtocolError(
        `${message.type} from ${hex(message.from)} to ${hex(message.to)} on this connection`,
      );
    }
  }

  private serve(from: bigint, request: RequestFrame): void {
    if (this.activeRequests >= this.ctx.limits.maxIncomingRequests) {
      const message = `too many peer requests in progress (${this.ctx.limits.maxIncomingRequests})`;
      this.socket.write(encodeResponse({ id: request.id, ok: false, message }));
      return;
    }
    this.activeRequests++;
    const reply = (frame: Buffer) => {
      this.activeRequests--;
      if (!this.socket.destroyed) this.socket.write(frame);
    };
    this.ctx.serve(from, request.kind, request.payload, this.abort.signal).then(
      (payload) => reply(encodeResponse({ id: request.id, ok: true, payload })),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        reply(encodeResponse({ id: request.id, ok: false, message }));
      },
    );
  }
}
