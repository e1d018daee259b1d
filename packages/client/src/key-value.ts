import type { mvccpb } from "@keyway/api";
import type { KeyMapper } from "./key-mapper.js";

/**
 * One key-value pair as stored at some revision. `key` and `value` are Buffers; `text()` and
 * `json()` decode the value. All revisions and the lease id are bigints.
 */
export class KeyValue {
  readonly key: Buffer;
  readonly value: Buffer;
  /** Revision of the last creation of this key. */
  readonly createRevision: bigint;
  /** Revision of the last change of this key. */
  readonly modRevision: bigint;
  /** Number of changes since the last creation (1 right after a create). */
  readonly version: bigint;
  /** Lease attached to the key; 0n for none. */
  readonly lease: bigint;

  constructor(kv: mvccpb.KeyValue, mapper: KeyMapper) {
    this.key = mapper.strip(kv.key);
    this.value = kv.value;
    this.createRevision = kv.createRevision;
    this.modRevision = kv.modRevision;
    this.version = kv.version;
    this.lease = kv.lease;
  }

  /** The key decoded as UTF-8. */
  keyText(): string {
    return this.key.toString("utf8");
  }

  /** The value decoded as UTF-8. */
  text(): string {
    return this.value.toString("utf8");
  }

  /** The value parsed as JSON; throws SyntaxError if it is not JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.value.toString("utf8")) as T;
  }
}

/** Wraps wire key-values, mapping keys back through the namespace. */
export function toKeyValues(kvs: readonly mvccpb.KeyValue[], mapper: KeyMapper): KeyValue[] {
  return kvs.map((kv) => new KeyValue(kv, mapper));
}
