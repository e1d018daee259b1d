import { Http2InputError } from "./errors.js";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman-table.js";

/** The end-of-string symbol: a coded string must never contain it (RFC 7541 §5.2). */
const EOS = 256;

/**
 * The code as a binary tree in one array: node `n` has children at `2n` (bit 0) and `2n + 1`
 * (bit 1). A positive entry is a child node, a negative one a leaf `-(symbol + 1)`, 0 is unused.
 */
const tree = buildTree();

function buildTree(): Int32Array {
  // A complete prefix code over 257 symbols has 256 internal nodes.
  const nodes = new Int32Array(2 * 256);
  let nextNode = 1;
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const code = HUFFMAN_CODES[symbol]!;
    const length = HUFFMAN_LENGTHS[symbol]!;
    let node = 0;
    for (let bit = length - 1; bit > 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      if (nodes[slot] === 0) nodes[slot] = nextNode++;
      node = nodes[slot]!;
    }
    nodes[2 * node + (code & 1)] = -(symbol + 1);
  }
  return nodes;
}

/**
 * Decodes one Huffman-coded HPACK string literal to a latin1 string (one char per octet).
 * Throws {@link Http2InputError} on EOS in the data, padding longer than 7 bits, or padding that
 * is not a prefix of EOS (all ones), as RFC 7541 §5.2 requires of a decoder.
 */
export function huffmanDecode(input: Uint8Array): string {
  // The shortest code is 5 bits, so n octets hold at most 8n/5 symbols.
  const out = Buffer.allocUnsafe(Math.floor((input.length * 8) / 5));
  let written = 0;
  let node = 0;
  let bitsSinceSymbol = 0;
  let onesSinceSymbol = true;
  for (const octet of input) {
    for (let shift = 7; shift >= 0; shift--) {
      const bit = (octet >>> shift) & 1;
      const next = tree[2 * node + bit]!;
      bitsSinceSymbol++;
      onesSinceSymbol &&= bit === 1;
      if (next >= 0) {
        node = next;
        continue;
      }
      const symbol = -next - 1;
      if (symbol === EOS) throw new Http2InputError("HPACK: EOS symbol inside a Huffman string");
      out[written++] = symbol;
      node = 0;
      bitsSinceSymbol = 0;
      onesSinceSymbol = true;
    }
  }
  if (bitsSinceSymbol > 7) throw new Http2InputError("HPACK: Huffman padding longer than 7 bits");
  if (!onesSinceSymbol) throw new Http2InputError("HPACK: Huffman padding is not a prefix of EOS");
  return out.toString("latin1", 0, written);
}
