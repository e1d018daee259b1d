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
  let bytes: Uint8Array;
  try {
    type.encode(message, shared);
  } finally {
    // Also after a throw: finish() resets the writer for the next call.
    bytes = shared.finish();
  }
  if (bytes.length > KEEP_BYTES) shared = new BinaryWriter();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
