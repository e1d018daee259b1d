import type { etcdserverpb } from "@keyway/api";
import type { KeyMapper } from "./key-mapper.js";
import { type KeyValue, toKeyValues } from "./key-value.js";

/** The response header every etcd answer carries. */
export type ResponseHeader = etcdserverpb.ResponseHeader;

const NO_HEADER: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };

/** A range's result. */
export interface RangeResult {
  kvs: KeyValue[];
  /** True when `limit` left keys out. */
  more: boolean;
  /** Keys in the range, ignoring limit and the min/max filters. */
  count: bigint;
  /** Store revision when the read was served. */
  revision: bigint;
  header: ResponseHeader;
}

/** A put's result. */
export interface PutResult {
  /** Revision of this put. */
  revision: bigint;
  /** The previous key-value, when `prevKv` was asked and the key existed. */
  prevKv: KeyValue | undefined;
  header: ResponseHeader;
}

/** A delete's result. */
export interface DeleteResult {
  /** Number of keys deleted. */
  deleted: bigint;
  /** The deleted key-values, when `prevKv` was asked. */
  prevKvs: KeyValue[];
  /** Store revision after the delete (unchanged when nothing was deleted). */
  revision: bigint;
  header: ResponseHeader;
}

/** The header of a response, or zeros for inner txn responses that may omit it. */
export function headerOf(header: ResponseHeader | undefined): ResponseHeader {
  return header ?? NO_HEADER;
}

/** Converts a wire RangeResponse, mapping keys back through the namespace. */
export function toRangeResult(res: etcdserverpb.RangeResponse, mapper: KeyMapper): RangeResult {
  const header = headerOf(res.header);
  return {
    kvs: toKeyValues(res.kvs, mapper),
    more: res.more,
    count: res.count,
    revision: header.revision,
    header,
  };
}

/** Converts a wire PutResponse. */
export function toPutResult(res: etcdserverpb.PutResponse, mapper: KeyMapper): PutResult {
  const header = headerOf(res.header);
  const prevKv = res.prevKv === undefined ? undefined : toKeyValues([res.prevKv], mapper)[0];
  return { revision: header.revision, prevKv, header };
}

/** Converts a wire DeleteRangeResponse. */
export function toDeleteResult(res: etcdserverpb.DeleteRangeResponse, mapper: KeyMapper): DeleteResult {
  const header = headerOf(res.header);
  return {
    deleted: res.deleted,
    prevKvs: toKeyValues(res.prevKvs, mapper),
    revision: header.revision,
    header,
  };
}
