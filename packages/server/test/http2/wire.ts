import { CONNECTION_PREFACE, FRAME_HEADER_BYTES } from "../../src/http2/frames.js";
import { type HeaderField, HpackDecoder } from "../../src/http2/hpack-decoder.js";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "../../src/http2/huffman-table.js";

/** Builds one HTTP/2 frame. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK "literal with incremental indexing, indexed name" for short values (< 127 octets). */
export function literalIndexed(nameIndex: number, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40 | nameIndex, value.length]), Buffer.from(value, "latin1")]);
}

/** HPACK "indexed header field". */
export function indexed(index: number): Buffer {
  return Buffer.from([0x80 | index]);
}

/** A parsed frame of a byte stream. */
export interface ParsedFrame {
  length: number;
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Splits a client byte stream (preface first) into frames; throws if it does not end on a frame boundary. */
export function parseFrames(bytes: Buffer): ParsedFrame[] {
  if (!bytes.subarray(0, CONNECTION_PREFACE.length).equals(CONNECTION_PREFACE)) throw new Error("no preface");
  const frames: ParsedFrame[] = [];
  let pos = CONNECTION_PREFACE.length;
  while (pos < bytes.length) {
    const length = bytes.readUIntBE(pos, 3);
    const payload = bytes.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
    if (payload.length !== length) throw new Error("truncated frame");
    frames.push({
      length,
      type: bytes[pos + 3]!,
      flags: bytes[pos + 4]!,
      streamId: bytes.readUInt32BE(pos + 5),
      payload,
    });
    pos += FRAME_HEADER_BYTES + length;
  }
  return frames;
}

/**
 * Decodes every header block of a client byte stream as a server would (one decoder for the
 * connection), after stripping padding and priority; returns `[streamId, headers]` per block.
 */
export function serverView(bytes: Buffer): [number, string[][]][] {
  const decoder = new HpackDecoder();
  const blocks: [number, string[][]][] = [];
  let fragments: Buffer[] = [];
  for (const f of parseFrames(bytes)) {
    if (f.type !== 0x1 && f.type !== 0x9) continue;
    let fragment = f.payload;
    if (f.type === 0x1) {
      const pad = f.flags & 0x8 ? fragment[0]! : 0;
      fragment = fragment.subarray(f.flags & 0x8 ? 1 : 0, fragment.length - pad);
      if (f.flags & 0x20) fragment = fragment.subarray(5);
    }
    fragments.push(fragment);
    if (f.flags & 0x4) {
      const fields: HeaderField[] = decoder.decode(Buffer.concat(fragments));
      blocks.push([f.streamId, fields.map((h) => [h.name, h.value])]);
      fragments = [];
    }
  }
  return blocks;
}

/** A Huffman encoder straight from the code table, to produce test input. */
export function huffmanEncode(text: string): Buffer {
  let bits = "";
  for (const char of text) {
    const symbol = char.charCodeAt(0);
    bits += HUFFMAN_CODES[symbol]!.toString(2).padStart(HUFFMAN_LENGTHS[symbol]!, "0");
  }
  bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, "1");
  return Buffer.from(bits.match(/.{8}/g)!.map((byte) => Number.parseInt(byte, 2)));
}
