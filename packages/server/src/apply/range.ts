import { etcdserverpb, type mvccpb } from "@keyway/api";
import {
  type IndexRange,
  type MvccStore,
  type RangeOptions,
  type RangeResult,
  toIndexRange,
} from "../mvcc/index.js";
import { isKnownSortTarget } from "./validate.js";

/** A read view: the store at its current revision, or a write txn that sees its own writes. */
export interface RangeReader {
  /** The reader's latest revision (reported in the response header). */
  readonly revision: number;
  range(range: IndexRange, options: RangeOptions): RangeResult;
}

const SortOrder = etcdserverpb.RangeRequest_SortOrder;
const SortTarget = etcdserverpb.RangeRequest_SortTarget;

/** A wire int64 as a number; values past 2^53 only occur as "far in the future" and stay huge. */
export function toNumber(value: bigint): number {
  return Number(value);
}

/**
 * etcd's Range on a read view: fetch (limit+1, or everything when sorting or filtering), drop
 * kvs outside the min/max mod/create revisions, sort, cut to limit (`more` if anything was cut),
 * blank values for keys_only. `count` is the store's: every key in range, whatever the limit
 * and filters. header.revision is the reader's revision, not the one read at.
 */
export function executeRange(
  reader: RangeReader,
  req: etcdserverpb.RangeRequest,
): etcdserverpb.RangeResponse {
  const plan = planRange(req);
  return finishRange(reader.range(plan.range, plan.options), req, reader.revision);
}

/**
 * {@link executeRange} at the store's latest revision, reading values in chunks between which
 * the event loop runs (see MvccStore.rangeKeysChunked): for client Ranges, which may be large.
 */
export async function executeRangeChunked(
  store: MvccStore,
  req: etcdserverpb.RangeRequest,
  chunkSize: number,
  pause: () => Promise<void>,
): Promise<etcdserverpb.RangeResponse> {
  const revision = store.currentRevision;
  const plan = planRange(req);
  return finishRange(await store.rangeKeysChunked(plan.range, plan.options, chunkSize, pause), req, revision);
}

interface RangePlan {
  range: IndexRange;
  options: RangeOptions;
}

function hasRevisionFilter(req: etcdserverpb.RangeRequest): boolean {
  return (
    req.minModRevision !== 0n ||
    req.maxModRevision !== 0n ||
    req.minCreateRevision !== 0n ||
    req.maxCreateRevision !== 0n
  );
}

function planRange(req: etcdserverpb.RangeRequest): RangePlan {
  const limit = toNumber(req.limit);
  const fetchAll = req.sortOrder !== SortOrder.NONE || hasRevisionFilter(req);
  return {
    range: toIndexRange(req.key, req.rangeEnd),
    options: {
      revision: toNumber(req.revision),
      limit: fetchAll || limit <= 0 ? 0 : limit + 1,
      countOnly: req.countOnly,
    },
  };
}

function finishRange(
  result: RangeResult,
  req: etcdserverpb.RangeRequest,
  headerRevision: number,
): etcdserverpb.RangeResponse {
  const limit = toNumber(req.limit);
  let kvs = hasRevisionFilter(req) ? result.kvs.filter((kv) => inRevisionBounds(kv, req)) : result.kvs;
  sortKvs(kvs, req);
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  if (req.keysOnly) for (const kv of kvs) kv.value = Buffer.alloc(0);
  return {
    header: etcdserverpb.ResponseHeader.fromPartial({ revision: BigInt(headerRevision) }),
    kvs,
    more,
    count: BigInt(result.count),
  };
}

function inRevisionBounds(kv: mvccpb.KeyValue, req: etcdserverpb.RangeRequest): boolean {
  if (req.maxModRevision !== 0n && kv.modRevision > req.maxModRevision) return false;
  if (req.minModRevision !== 0n && kv.modRevision < req.minModRevision) return false;
  if (req.maxCreateRevision !== 0n && kv.createRevision > req.maxCreateRevision) return false;
  if (req.minCreateRevision !== 0n && kv.createRevision < req.minCreateRevision) return false;
  return true;
}

type Compare = (a: mvccpb.KeyValue, b: mvccpb.KeyValue) => number;

const byTarget: Record<number, Compare> = {
  [SortTarget.KEY]: (a, b) => Buffer.compare(a.key, b.key),
  [SortTarget.VERSION]: (a, b) => compareBigints(a.version, b.version),
  [SortTarget.CREATE]: (a, b) => compareBigints(a.createRevision, b.createRevision),
  [SortTarget.MOD]: (a, b) => compareBigints(a.modRevision, b.modRevision),
  [SortTarget.VALUE]: (a, b) => Buffer.compare(a.value, b.value),
};

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Sorts in place as etcd does: results come in key order, so KEY+NONE/ASCEND needs nothing; a
 * target other than KEY with order NONE sorts ascending; an unknown order does not sort. Ties
 * keep key order (stable sort), as Go's insertion sort does for the small results it sorts.
 */
function sortKvs(kvs: mvccpb.KeyValue[], req: etcdserverpb.RangeRequest): void {
  const target = req.sortTarget;
  let order = req.sortOrder;
  if (target !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  if (!isKnownSortTarget(target)) return;
  const compare = byTarget[target] as Compare;
  if (order === SortOrder.ASCEND && target !== SortTarget.KEY) kvs.sort(compare);
  else if (order === SortOrder.DESCEND) kvs.sort((a, b) => compare(b, a));
}
