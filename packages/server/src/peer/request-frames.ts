import { PeerProtocolError } from "./errors.js";
import { FRAME_HEADER_BYTES, FrameKind, writeFrameHeader } from "./frame.js";
import { WireReader } from "./wire.js";

const MAX_KIND_BYTES = 255;
const STATUS_OK = 0;
const STATUS_ERROR = 1;

/** A peer RPC call as it travels. */
export interface RequestFrame {
  readonly id: number;
  readonly kind: string;
  readonly payload: Uint8Array;
}

/** The answer to a {@link RequestFrame}: a payload, or the remote error's message. */
export type ResponseFrame =
  | { readonly id: number; readonly ok: true; readonly payload: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** Encodes a request frame; a kind longer than 255 UTF-8 bytes throws RangeError. */
export function encodeRequest(request: RequestFrame): Buffer {
  const kind = Buffer.from(request.kind, "utf8");
  if (kind.length > MAX_KIND_BYTES)
    throw new RangeError(`peer request kind longer than ${MAX_KIND_BYTES} bytes`);
  const payloadLength = 4 + 1 + kind.length + request.payload.length;
  const buffer = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadLength);
  writeFrameHeader(buffer, FrameKind.request, payloadLength);
  let offset = buffer.writeUInt32LE(request.id, FRAME_HEADER_BYTES);
  offset = buffer.writeUInt8(kind.length, offset);
  buffer.set(kind, offset);
  buffer.set(request.payload, offset + kind.length);
  return buffer;
}

/** Decodes a request frame's payload (the request payload is copied out). */
export function decodeRequest(payload: Uint8Array): RequestFrame {
  const reader = new WireReader(payload);
  const id = reader.u32("request id");
  const kindLength = reader.u8("request kind length");
  if (kindLength > reader.remaining) throw new PeerProtocolError("truncated request kind");
  const rest = reader.rest();
  const kind = Buffer.from(rest.buffer, rest.byteOffset, kindLength).toString("utf8");
  return { id, kind, payload: rest.slice(kindLength) };
}

/** Encodes a response frame. */
export function encodeResponse(response: ResponseFrame): Buffer {
  const body = response.ok ? response.payload : Buffer.from(response.message, "utf8");
  const payloadLength = 4 + 1 + body.length;
  const buffer = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadLength);
  writeFrameHeader(buffer, FrameKind.response, payloadLength);
  let offset = buffer.writeUInt32LE(response.id, FRAME_HEADER_BYTES);
  offset = buffer.writeUInt8(response.ok ? STATUS_OK : STATUS_ERROR, offset);
  buffer.set(body, offset);
  return buffer;
}

/** Decodes a response frame's payload (the payload is copied out). */
export function decodeResponse(payload: Uint8Array): ResponseFrame {
  const reader = new WireReader(payload);
  const id = reader.u32("response id");
  const status = reader.u8("response status");
  const body = reader.rest().slice();
  if (status === STATUS_OK) return { id, ok: true, payload: body };
  if (status === STATUS_ERROR) return { id, ok: false, message: Buffer.from(body).toString("utf8") };
  throw new PeerProtocolError(`unknown response status ${status}`);
}
