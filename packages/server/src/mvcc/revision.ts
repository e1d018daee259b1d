/**
 * Revisions as etcd stores them in its `key` bucket: 8-byte big-endian main, `_`, 8-byte big-endian
 * sub, and an 18th byte `t` on tombstones. Big-endian keys make the backend sorted by revision, so
 * "every change in [a, b)" is one range scan, and the layout keeps HashKV byte-compatible with etcd.
 */

/** Length of an encoded revision without the tombstone mark. */
export const REV_BYTES = 17;

const SEPARATOR = 0x5f; // '_'
const TOMBSTONE_MARK = 0x74; // 't'

/** Largest main or sub revision we encode: beyond 2^53 a JS number stops being exact. */
const MAX_REV = Number.MAX_SAFE_INTEGER;

/**
 * Encodes `{main, sub}` as a backend key (17 bytes, 18 with the tombstone mark).
 * Both parts must be non-negative safe integers.
 */
export function encodeRevision(main: number, sub: number, tombstone = false): Buffer {
  if (!(main >= 0 && main <= MAX_REV && sub >= 0 && sub <= MAX_REV)) {
    throw new Error(`mvcc: revision out of range: ${main}_${sub}`);
  }
  const out = Buffer.allocUnsafe(tombstone ? REV_BYTES + 1 : REV_BYTES);
  writeUint64(out, 0, main);
  out[8] = SEPARATOR;
  writeUint64(out, 9, sub);
  if (tombstone) out[REV_BYTES] = TOMBSTONE_MARK;
  return out;
}

/** The decoded parts of a backend revision key. */
export interface DecodedRevision {
  main: number;
  sub: number;
  tombstone: boolean;
}

/** Decodes a backend key written by {@link encodeRevision}. */
export function decodeRevision(key: Uint8Array): DecodedRevision {
  if (key.length !== REV_BYTES && key.length !== REV_BYTES + 1) {
    throw new Error(`mvcc: bad revision key of ${key.length} bytes`);
  }
  return {
    main: readUint64(key, 0),
    sub: readUint64(key, 9),
    tombstone: key.length === REV_BYTES + 1 && key[REV_BYTES] === TOMBSTONE_MARK,
  };
}

function writeUint64(out: Buffer, offset: number, value: number): void {
  const high = Math.floor(value / 2 ** 32);
  out.writeUInt32BE(high, offset);
  out.writeUInt32BE(value - high * 2 ** 32, offset + 4);
}

function readUint64(key: Uint8Array, offset: number): number {
  const word = (at: number) =>
    (key[at] as number) * 2 ** 24 +
    (((key[at + 1] as number) << 16) | ((key[at + 2] as number) << 8) | (key[at + 3] as number));
  const value = word(offset) * 2 ** 32 + word(offset + 4);
  if (value > MAX_REV) throw new Error("mvcc: revision beyond 2^53 in the backend");
  return value;
}
