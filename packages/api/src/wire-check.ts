/**
 * A strict pass over protobuf bytes, before decoding, that refuses what Go's protobuf decoder
 * (and so etcd) refuses: truncated varints or lengths, invalid wire types, and a known field
 * sent with a wire type other than its own. Unknown fields are skipped, as proto3 requires.
 */

/** How one known field must arrive on the wire. */
export interface WireField {
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  wire: number;
  /** Fully qualified message type, for embedded messages (checked recursively). */
  message?: string;
  /** A repeated scalar: may also arrive packed (wire type 2). */
  packable?: boolean;
}

/** Generated from the .proto files by `pnpm gen` (src/gen/wire-schema.ts). */
export interface WireSchema {
  messages: Record<string, Record<number, WireField>>;
  /** gRPC method path → fully qualified request message. */
  methods: Record<string, string>;
}

/** Deepest message nesting accepted; Go's decoder stops at 10,000, txns nest far less. */
const MAX_DEPTH = 100;

/**
 * Returns a description of the first defect in `bytes` read as `messageName`, or undefined when
 * the bytes are well-formed for it.
 */
export function findWireDefect(
  schema: WireSchema,
  messageName: string,
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
  depth = 0,
): string | undefined {
  if (depth > MAX_DEPTH) return "message nesting too deep";
  const fields = schema.messages[messageName] ?? {};
  let pos = start;
  while (pos < end) {
    const tag = readVarint(bytes, pos, end);
    if (tag === undefined) return "truncated tag";
    pos = tag.next;
    const fieldNumber = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (fieldNumber === 0) return "illegal field number 0";
    const field = fields[fieldNumber];
    if (field !== undefined && wire !== field.wire && !(field.packable && wire === 2)) {
      return `wrong wireType = ${wire} for field ${fieldNumber} of ${messageName}`;
    }
    const skipped = skipValue(bytes, pos, end, wire);
    if (typeof skipped === "string") return `${skipped} in field ${fieldNumber} of ${messageName}`;
    if (field?.message !== undefined) {
      const defect = findWireDefect(schema, field.message, bytes, skipped.bodyStart, skipped.next, depth + 1);
      if (defect !== undefined) return defect;
    }
    pos = skipped.next;
  }
  return undefined;
}

function skipValue(
  bytes: Uint8Array,
  pos: number,
  end: number,
  wire: number,
): { bodyStart: number; next: number } | string {
  switch (wire) {
    case 0: {
      const varint = readVarint(bytes, pos, end);
      return varint === undefined ? "truncated varint" : { bodyStart: pos, next: varint.next };
    }
    case 1:
      return pos + 8 <= end ? { bodyStart: pos, next: pos + 8 } : "truncated fixed64";
    case 5:
      return pos + 4 <= end ? { bodyStart: pos, next: pos + 4 } : "truncated fixed32";
    case 2: {
      const length = readVarint(bytes, pos, end);
      if (length === undefined) return "truncated length";
      const next = length.next + length.value;
      return next <= end ? { bodyStart: length.next, next } : "length past the end";
    }
    default:
      // Groups (3, 4) are proto2-only and 6, 7 do not exist: etcd's messages never carry them.
      return `invalid wire type ${wire}`;
  }
}

/** Reads a base-128 varint of at most 10 bytes; values above 2^53 lose precision, which only sizes care about. */
function readVarint(
  bytes: Uint8Array,
  pos: number,
  end: number,
): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10 && pos + i < end; i++) {
    const byte = bytes[pos + i] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: pos + i + 1 };
    scale *= 128;
  }
  return undefined;
}
