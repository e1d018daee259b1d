import { FROM_KEY_END, prefixEnd } from "@keyway/api";
import type { WireRange } from "./keys.js";

/**
 * Maps user keys to stored keys and back. The identity mapper is used by the plain client; a
 * namespace uses a prefix mapper, so every KV, txn, watch and lease-key path shares one rule.
 */
export interface KeyMapper {
  /** A single user key to the stored key. */
  key(key: Buffer): Buffer;
  /** A user range (with etcd's empty and "\0" range_end conventions) to the stored range. */
  range(range: WireRange): WireRange;
  /** A stored key back to the user key. */
  strip(key: Buffer): Buffer;
}

/** The mapper that changes nothing. */
export const identityMapper: KeyMapper = {
  key: (key) => key,
  range: (range) => range,
  strip: (key) => key,
};

/**
 * A mapper that puts every key under `prefix`. "From key" and "all keys" ranges are bounded by
 * the prefix's end, so a namespace can never read or delete outside itself.
 */
export function prefixMapper(prefix: Buffer): KeyMapper {
  if (prefix.length === 0) return identityMapper;
  const end = prefixEnd(prefix);
  const add = (key: Buffer) => Buffer.concat([prefix, key]);
  return {
    key: add,
    range({ key, rangeEnd }) {
      const isAll = key.equals(FROM_KEY_END);
      if (rangeEnd.length === 0) return { key: add(key), rangeEnd };
      if (rangeEnd.equals(FROM_KEY_END)) return { key: isAll ? prefix : add(key), rangeEnd: end };
      return { key: isAll ? prefix : add(key), rangeEnd: add(rangeEnd) };
    },
    strip: (key) => (key.subarray(0, prefix.length).equals(prefix) ? key.subarray(prefix.length) : key),
  };
}
