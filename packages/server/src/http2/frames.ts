import { Http2InputError } from "./errors.js";

/** What every HTTP/2 client sends first (RFC 9113 §3.4). */
export const CONNECTION_PREFACE: Buffer = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** Octets in a frame header: 24-bit length, type, flags, 31-bit stream id. */
export const FRAME_HEADER_BYTES = 9;
/** SETTINGS_MAX_FRAME_SIZE's initial value, in payload octets; peers may only raise it. */
export const DEFAULT_MAX_FRAME_BYTES = 16_384;

/** The frame types this module looks at (RFC 9113 §6). */
export const FrameType = {
  HEADERS: 0x1,
  PUSH_PROMISE: 0x5,
  CONTINUATION: 0x9,
} as const;

/** Frame flags this module looks at. */
export const FrameFlag = {
  END_STREAM: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Octets of the stream dependency and weight a HEADERS frame carries with the PRIORITY flag. */
const PRIORITY_BYTES = 5;

/** The parts of one HEADERS frame's payload that matter once padding is gone. */
export interface HeadersPayload {
  /** The 5 priority octets when the PRIORITY flag is set. */
  priority: Buffer | undefined;
  /** This frame's piece of the header block. */
  fragment: Buffer;
}

/** Splits a HEADERS payload into priority and block fragment, dropping padding. */
export function parseHeadersPayload(flags: number, payload: Buffer): HeadersPayload {
  let start = 0;
  let end = payload.length;
  if (flags & FrameFlag.PADDED) {
    if (payload.length < 1) throw new Http2InputError("HTTP/2: PADDED HEADERS frame without a pad length");
    end -= payload[0]!;
    start = 1;
  }
  let priority: Buffer | undefined;
  if (flags & FrameFlag.PRIORITY) {
    priority = payload.subarray(start, start + PRIORITY_BYTES);
    start += PRIORITY_BYTES;
  }
  if (end < start) throw new Http2InputError("HTTP/2: HEADERS padding longer than the frame");
  return { priority, fragment: payload.subarray(start, end) };
}

/** Writes a frame header at `pos` of `out`; returns the position after it. */
export function writeFrameHeader(
  out: Buffer,
  pos: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): number {
  out.writeUIntBE(length, pos, 3);
  out[pos + 3] = type;
  out[pos + 4] = flags;
  out.writeUInt32BE(streamId, pos + 5);
  return pos + FRAME_HEADER_BYTES;
}

/** What {@link headerBlockFrames} frames. */
export interface HeaderBlockFraming {
  streamId: number;
  /** Whether the HEADERS frame carries END_STREAM. */
  endStream: boolean;
  /** Priority octets to repeat on the HEADERS frame, if the original had them. */
  priority: Buffer | undefined;
  block: Buffer;
  /** The largest frame payload the receiver accepts (its SETTINGS_MAX_FRAME_SIZE). */
  maxFrameBytes: number;
}

/**
 * Frames a header block as one HEADERS frame followed by as many CONTINUATION frames as needed,
 * none with a payload above `maxFrameBytes`, no padding; returned as one buffer.
 */
export function headerBlockFrames(framing: HeaderBlockFraming): Buffer {
  const { streamId, priority, block, maxFrameBytes } = framing;
  const firstRoom = maxFrameBytes - (priority === undefined ? 0 : PRIORITY_BYTES);
  const continuations = Math.max(0, Math.ceil((block.length - firstRoom) / maxFrameBytes));
  const out = Buffer.allocUnsafe(
    (1 + continuations) * FRAME_HEADER_BYTES + (priority?.length ?? 0) + block.length,
  );
  const firstFragment = Math.min(block.length, firstRoom);
  let flags =
    (framing.endStream ? FrameFlag.END_STREAM : 0) | (continuations === 0 ? FrameFlag.END_HEADERS : 0);
  if (priority !== undefined) flags |= FrameFlag.PRIORITY;
  let pos = writeFrameHeader(
    out,
    0,
    firstFragment + (priority?.length ?? 0),
    FrameType.HEADERS,
    flags,
    streamId,
  );
  if (priority !== undefined) pos += priority.copy(out, pos);
  pos += block.copy(out, pos, 0, firstFragment);
  for (let start = firstFragment; start < block.length; start += maxFrameBytes) {
    const end = Math.min(block.length, start + maxFrameBytes);
    const last = end === block.length ? FrameFlag.END_HEADERS : 0;
    pos = writeFrameHeader(out, pos, end - start, FrameType.CONTINUATION, last, streamId);
    pos += block.copy(out, pos, start, end);
  }
  return out;
}
