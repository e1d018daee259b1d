import { FROM_KEY_END, prefixEnd } from "@keyway/api";
import { badRequest } from "./errors.js";

/** A key or value as the caller gives it: a string (UTF-8) or bytes. */
export type Bytes = string | Uint8Array;

/** How a key becomes a range. At most one of the three may be set. */
export interface RangeSelector {
  /** Every key starting with the key. An empty key with `prefix` means every key. */
  prefix?: boolean;
  /** Every key in [key, end). `end` must sort after `key`. */
  end?: Bytes;
  /** Every key >= key. */
  fromKey?: boolean;
}

/** A request's key and range_end on the wire. */
export interface WireRange {
  key: Buffer;
  rangeEnd: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** Converts bytes or a string to a Buffer without copying a Buffer. */
export function toBuffer(value: Bytes): Buffer {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw badRequest(`expected a string or bytes, got ${typeof value}`);
}

/** Checks at run time that `value` is a string or bytes (callers may not use TypeScript). */
export function checkedBytes(value: Bytes, what: string): Buffer {
  if (typeof value !== "string" && !(value instanceof Uint8Array)) {
    throw badRequest(`${what} must be a string or bytes, got ${value === null ? "null" : typeof value}`);
  }
  return toBuffer(value);
}

/** A non-empty key, or a `badRequest` error naming `what` (etcd rejects empty keys). */
export function toKey(key: Bytes, what = "key"): Buffer {
  const buf = checkedBytes(key, what);
  if (buf.length === 0) throw badRequest(`${what} must not be empty`);
  return buf;
}

/**
 * Turns a key plus a {@link RangeSelector} into the wire `key`/`range_end`, refusing
 * contradictory or empty selections before anything is sent.
 */
export function selectRange(key: Bytes, selector: RangeSelector = {}): WireRange {
  const chosen = [selector.prefix === true, selector.end !== undefined, selector.fromKey === true];
  if (chosen.filter(Boolean).length > 1) throw badRequest("use only one of prefix, end and fromKey");
  if (selector.prefix === true) {
    const prefix = checkedBytes(key, "key");
    if (prefix.length === 0) return { key: FROM_KEY_END, rangeEnd: FROM_KEY_END };
    return { key: prefix, rangeEnd: prefixEnd(prefix) };
  }
  const start = toKey(key);
  if (selector.fromKey === true) return { key: start, rangeEnd: FROM_KEY_END };
  if (selector.end !== undefined) {
    const end = toKey(selector.end, "range end");
    if (!end.equals(FROM_KEY_END) && Buffer.compare(end, start) <= 0) {
      throw badRequest("range end must sort after the key");
    }
    return { key: start, rangeEnd: end };
  }
  return { key: start, rangeEnd: EMPTY };
}

/** Checks that `value` is a non-negative int64 bigint (revisions, limits) and returns it. */
export function nonNegative(value: bigint | number | undefined, what: string): bigint {
  if (value === undefined) return 0n;
  const big = typeof value === "number" ? toBigInt(value, what) : value;
  if (typeof big !== "bigint") throw badRequest(`${what} must be a bigint`);
  if (big < 0n || big > 0x7fffffffffffffffn)
    throw badRequest(`${what} must be between 0 and 2^63-1, got ${big}`);
  return big;
}

/** Checks a uint64 bigint (member and cluster ids, which etcd draws from the full 64 bits). */
export function uint64(value: bigint, what: string): bigint {
  if (typeof value !== "bigint") throw badRequest(`${what} must be a bigint`);
  if (value < 0n || value > 0xffffffffffffffffn)
    throw badRequest(`${what} must be between 0 and 2^64-1, got ${value}`);
  return value;
}

function toBigInt(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value)) throw badRequest(`${what} must be an integer, got ${value}`);
  return BigInt(value);
}
