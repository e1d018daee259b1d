import type { KeyValue } from "@keyway/client";

/** The current leader as stored in etcd. */
export interface Leader {
  /** The leader's key: `name/` + hex(lease). */
  key: Buffer;
  /** The value it campaigned with or last proclaimed. */
  value: Buffer;
  /** Its key's create revision: the leadership's fencing token. */
  createRevision: bigint;
  /** Revision of its last proclaim (or of the campaign). */
  modRevision: bigint;
  /** Its lease id. */
  lease: bigint;
}

/** Converts a stored candidate key-value. */
export function toLeader(kv: KeyValue): Leader {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    lease: kv.lease,
  };
}
