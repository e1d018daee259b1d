import { mvccpb } from "@keyway/api";

/** The fields of an encoded `mvccpb.KeyValue` that restore and compaction need, without copying the value. */
export interface KeyValueHead {
  key: Buffer;
  createRevision: number;
  version: number;
}

/** Encodes a KeyValue as the backend stores it (the same bytes etcd writes). */
export function encodeKeyValue(kv: mvccpb.KeyValue): Buffer {
  const bytes = mvccpb.KeyValue.encode(kv).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes a full KeyValue from the backend. */
export function decodeKeyValue(bytes: Uint8Array): mvccpb.KeyValue {
  return mvccpb.KeyValue.decode(bytes);
}

/**
 * Reads key (1), create_revision (2) and version (4) of an encoded KeyValue, skipping the rest.
 * Rebuilding the index of a million keys this way avoids decoding and copying every value.
 */
export function decodeKeyValueHead(bytes: Buffer): KeyValueHead {
  const head: KeyValueHead = { key: Buffer.alloc(0), createRevision: 0, version: 0 };
  let pos = 0;
  while (pos < bytes.length) {
    const [tag, afterTag] = readVarint(bytes, pos);
    pos = afterTag;
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (wireType === 2) {
      const [length, afterLength] = readVarint(bytes, pos);
      if (field === 1) head.key = bytes.subarray(afterLength, afterLength + length);
      pos = afterLength + length;
    } else if (wireType === 0) {
      const [value, afterValue] = readVarint(bytes, pos);
      if (field === 2) head.createRevision = value;
      if (field === 4) head.version = value;
      pos = afterValue;
    } else {
      throw new Error(`mvcc: unexpected wire type ${wireType} in a stored KeyValue`);
    }
  }
  if (pos !== bytes.length) throw new Error("mvcc: truncated KeyValue in the backend");
  return head;
}

/** Reads a varint (exact below 2^53, which revisions and versions are); returns [value, next position]. */
function readVarint(bytes: Buffer, start: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let pos = start; pos < bytes.length && pos < start + 10; pos++) {
    const byte = bytes[pos] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos + 1];
    scale *= 128;
  }
  throw new Error("mvcc: bad varint in a stored KeyValue");
}
