import type { HeaderField } from "./hpack-decoder.js";
import { STATIC_NAME_INDEX } from "./static-table.js";

/**
 * Encodes a header list using only literal representations that leave the receiver's dynamic
 * table alone: "without indexing" (RFC 7541 §6.2.2), or "never indexed" (§6.2.3) for sensitive
 * fields. Names come from the static table where they are in it; strings are sent raw (no
 * Huffman), which costs a few octets and keeps this trivially correct. Names and values are latin1.
 */
export function encodeLiteralBlock(fields: readonly HeaderField[]): Buffer {
  let size = 0;
  for (const { name, value } of fields) {
    const nameIndex = STATIC_NAME_INDEX.get(name);
    size += nameIndex === undefined ? 1 + stringSize(name) : integerSize(nameIndex, 4);
    size += stringSize(value);
  }
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const { name, value, sensitive } of fields) {
    const nameIndex = STATIC_NAME_INDEX.get(name);
    pos = writeInteger(out, pos, nameIndex ?? 0, 4, sensitive ? 0x10 : 0x00);
    if (nameIndex === undefined) pos = writeString(out, pos, name);
    pos = writeString(out, pos, value);
  }
  return out;
}

function stringSize(text: string): number {
  return integerSize(text.length, 7) + text.length;
}

function integerSize(value: number, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) return 1;
  let size = 2;
  for (let rest = value - max; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

function writeString(out: Buffer, pos: number, text: string): number {
  const start = writeInteger(out, pos, text.length, 7, 0x00);
  return start + out.write(text, start, "latin1");
}

/** An integer with an N-bit prefix (RFC 7541 §5.1); `flags` fills the octet's bits above the prefix. */
function writeInteger(out: Buffer, pos: number, value: number, prefixBits: number, flags: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[pos] = flags | value;
    return pos + 1;
  }
  out[pos++] = flags | max;
  let rest = value - max;
  while (rest >= 0x80) {
    out[pos++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[pos] = rest;
  return pos + 1;
}
