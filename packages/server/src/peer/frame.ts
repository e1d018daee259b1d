import { PeerProtocolError } from "./errors.js";

/**
 * Frame kinds of the peer protocol. Every frame is `u32 payload length, u8 kind, payload`.
 * Wire values: append, never renumber.
 */
export const FrameKind = {
  /** First frame of every connection: see handshake.ts. */
  hello: 1,
  /** The acceptor refuses the handshake: UTF-8 reason, then it closes. */
  refuse: 2,
  /** A batch of raft messages, back to back (message-codec.ts). */
  messages: 3,
  /** u32 request id, u8 kind length, kind (UTF-8), payload. */
  request: 4,
  /** u32 request id, u8 status (0 ok, 1 error), payload or UTF-8 error message. */
  response: 5,
  /** Keepalive from the connecting side; answered with `pong`. */
  ping: 6,
  pong: 7,
  /** Snapshot connection: u64 data length, then the MsgSnap encoded with empty snapshot data. */
  snapshotHead: 8,
  /** Snapshot connection: the next slice of snapshot data. */
  snapshotChunk: 9,
  /** Snapshot connection: the receiver handed the snapshot to raft. */
  snapshotAck: 10,
  /** Members query connection: the cluster id and member table (members-query.ts), then it closes. */
  members: 11,
} as const;

/** A frame kind's wire value. */
export type FrameKindCode = (typeof FrameKind)[keyof typeof FrameKind];

/** Bytes before a frame's payload: u32 length + u8 kind. */
export const FRAME_HEADER_BYTES = 5;

/** Writes a frame header at the start of `buffer`. */
export function writeFrameHeader(buffer: Buffer, kind: FrameKindCode, payloadLength: number): void {
  buffer.writeUInt32LE(payloadLength, 0);
  buffer[4] = kind;
}

/** A small frame whose payload is already built (one allocation, one copy). */
export function encodeFrame(kind: FrameKindCode, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const buffer = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(buffer, kind, payload.length);
  buffer.set(payload, FRAME_HEADER_BYTES);
  return buffer;
}

/** A received frame. `payload` may be a view into a socket chunk: decode or copy it before keeping it. */
export interface Frame {
  readonly kind: number;
  readonly payload: Buffer;
}

/**
 * Splits a byte stream into frames. Chunks are kept as received; a payload is copied only when it
 * spans chunks. A length above `maxPayloadBytes` throws {@link PeerProtocolError} before anything
 * is allocated for it.
 */
export class FrameReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private header: { kind: number; length: number } | undefined;

  constructor(private readonly maxPayloadBytes: number) {}

  /** Adds received bytes; returns the frames they complete, in order. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.header === undefined) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const head = this.take(FRAME_HEADER_BYTES);
        const length = head.readUInt32LE(0);
        if (length > this.maxPayloadBytes) {
          throw new PeerProtocolError(
            `frame of ${length} bytes exceeds the limit of ${this.maxPayloadBytes}`,
          );
        }
        this.header = { kind: head[4]!, length };
      }
      if (this.buffered < this.header.length) break;
      frames.push({ kind: this.header.kind, payload: this.take(this.header.length) });
      this.header = undefined;
    }
    return frames;
  }

  private take(count: number): Buffer {
    this.buffered -= count;
    const first = this.chunks[0];
    if (first !== undefined && first.length >= count) {
      if (first.length === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.chunks[0]!;
      const used = Math.min(chunk.length, count - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}
