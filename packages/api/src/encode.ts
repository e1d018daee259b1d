import { BinaryWriter } from "@bufbuild/protobuf/wire";

/** A generated message type, as {@link encodeMessage} uses it. */
export interface Encodable<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

/** A writer whose buffer grew past this is dropped after use, so one big message is not kept. */
const KEEP_BYTES = 64 * 1024;
let shared = new BinaryWriter();

/**
 * Encodes `message` into a Buffer with one writer reused for every call (encoding is synchronous,
 * so calls never overlap). The generated `Buffer.from(T.encode(m).finish())` allocates and zeroes
 * a fresh 128-octet writer buffer, grows it, copies it in `finish` and copies it again in
 * `Buffer.from`; this does the `finish` copy only, and the Buffer shares its memory.
 */
export function encodeMessage<T>(type: Encodable<T>, message: T): Buffer {
  return encodeAfter(type, message, NO_PREFIX);
}

/** Octets in front of a gRPC message on the wire: a compressed flag and a big-endian length. */
export const GRPC_FRAME_HEADER_BYTES = 5;
const NO_PREFIX = new Uint8Array(0);
const GRPC_FRAME_HEADER = new Uint8Array(GRPC_FRAME_HEADER_BYTES);

/**
 * Encodes `message` as a gRPC length-prefixed frame (uncompressed), with {@link encodeMessage}'s
 * one copy: the frame header is written ahead of the message in the same writer, instead of the
 * message being copied once more behind it.
 */
export function encodeGrpcFrame<T>(type: Encodable<T>, message: T): Buffer {
  const frame = encodeAfter(type, message, GRPC_FRAME_HEADER);
  frame.writeUInt32BE(frame.length - GRPC_FRAME_HEADER_BYTES, 1);
  return frame;
}

function encodeAfter<T>(type: Encodable<T>, message: T, prefix: Uint8Array): Buffer {
  let bytes: Uint8Array;
  try {
    if (prefix.length > 0) shared.raw(prefix);
    type.encode(message, shared);
  } finally {
    // Also after a throw: finish() resets the writer for the next call.
    bytes = shared.finish();
  }
  if (bytes.length > KEEP_BYTES) shared = new BinaryWriter();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
