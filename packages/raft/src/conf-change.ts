/**
 * Encoding of {@link ConfChange} into entry data, so a membership change travels through the log
 * like any other command. Layout: 1 byte type, the node id as 8 bytes big-endian, then the
 * context bytes, if any, to the end.
 */
import type { ConfChange } from "./types.js";
import { assert } from "./util.js";

const TYPE_CODES = { addNode: 0, removeNode: 1, addLearner: 2 } as const;
const TYPES = ["addNode", "removeNode", "addLearner"] as const;

/** Encodes a conf change as entry data (9 bytes plus the context). */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(9 + (cc.context?.byteLength ?? 0));
  out[0] = TYPE_CODES[cc.type];
  new DataView(out.buffer).setBigUint64(1, cc.nodeId);
  if (cc.context !== undefined) out.set(cc.context, 9);
  return out;
}

/** Decodes entry data written by {@link encodeConfChange}; a malformed entry is corruption. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  assert(data.byteLength >= 9, `malformed conf change entry (${data.byteLength} bytes)`);
  const type = TYPES[data[0]!];
  assert(type !== undefined, `unknown conf change type ${data[0]}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const nodeId = view.getBigUint64(1);
  return data.byteLength === 9 ? { type, nodeId } : { type, nodeId, context: data.subarray(9) };
}
