import { etcdserverpb } from "@keyway/api";
import { badRequest } from "./errors.js";
import type { KeyMapper } from "./key-mapper.js";
import { type Bytes, checkedBytes, nonNegative, type RangeSelector, selectRange, toKey } from "./keys.js";

/** What a range sorts by. */
export type SortTarget = "key" | "version" | "create" | "mod" | "value";
/** Sort direction; "none" keeps etcd's key order. */
export type SortOrder = "none" | "ascend" | "descend";

/** Every option of etcd's Range. */
export interface RangeOptions extends RangeSelector {
  /** Most keys to return (0n or absent: no limit). `more` tells whether keys were left out. */
  limit?: bigint | number;
  /** Read at this past revision (0n or absent: the latest). */
  revision?: bigint;
  /** Sort the result; `order` defaults to "ascend". */
  sort?: { target: SortTarget; order?: SortOrder };
  /** Answer from the member's local state without a linearizable ReadIndex. Default false. */
  serializable?: boolean;
  /** Return keys without values. */
  keysOnly?: boolean;
  /** Return only `count`. */
  countOnly?: boolean;
  minModRevision?: bigint;
  maxModRevision?: bigint;
  minCreateRevision?: bigint;
  maxCreateRevision?: bigint;
}

/** Options of a single-key get. */
export type GetOptions = Pick<RangeOptions, "revision" | "serializable" | "keysOnly">;

/** Options of Put. */
export interface PutOptions {
  /** Attach the key to this lease (0n or absent: no lease; a put detaches the previous lease). */
  lease?: bigint;
  /** Return the previous key-value. */
  prevKv?: boolean;
  /** Keep the current value; the value argument must be empty. */
  ignoreValue?: boolean;
  /** Keep the current lease; `lease` must be absent. */
  ignoreLease?: boolean;
}

/** Options of DeleteRange. */
export interface DeleteOptions extends RangeSelector {
  /** Return the deleted key-values. */
  prevKv?: boolean;
}

const SORT_TARGETS: Record<SortTarget, etcdserverpb.RangeRequest_SortTarget> = {
  key: etcdserverpb.RangeRequest_SortTarget.KEY,
  version: etcdserverpb.RangeRequest_SortTarget.VERSION,
  create: etcdserverpb.RangeRequest_SortTarget.CREATE,
  mod: etcdserverpb.RangeRequest_SortTarget.MOD,
  value: etcdserverpb.RangeRequest_SortTarget.VALUE,
};
const SORT_ORDERS: Record<SortOrder, etcdserverpb.RangeRequest_SortOrder> = {
  none: etcdserverpb.RangeRequest_SortOrder.NONE,
  ascend: etcdserverpb.RangeRequest_SortOrder.ASCEND,
  descend: etcdserverpb.RangeRequest_SortOrder.DESCEND,
};

const CALL_KEYS = ["signal", "timeoutMs"];
const SELECTOR_KEYS = ["prefix", "end", "fromKey"];
const RANGE_KEYS = [
  ...SELECTOR_KEYS,
  ...["limit", "revision", "sort", "serializable", "keysOnly", "countOnly"],
  ...["minModRevision", "maxModRevision", "minCreateRevision", "maxCreateRevision"],
];

/**
 * Rejects option names the call does not know, so a typo (`{ prefx: true }`) is an error
 * instead of a silently wider or narrower request.
 */
export function checkOptionNames(
  options: object | undefined,
  allowed: readonly string[],
  call: string,
): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) throw badRequest(`${call} options must be an object`);
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name) && !CALL_KEYS.includes(name)) {
      throw badRequest(`unknown option ${JSON.stringify(name)} for ${call}`);
    }
  }
}

/** Builds and validates a RangeRequest. */
export function rangeRequest(
  key: Bytes,
  options: RangeOptions,
  mapper: KeyMapper,
): etcdserverpb.RangeRequest {
  checkOptionNames(options, RANGE_KEYS, "range");
  const { key: wireKey, rangeEnd } = mapper.range(selectRange(key, options));
  const sort = options.sort;
  const sortTarget =
    sort === undefined ? etcdserverpb.RangeRequest_SortTarget.KEY : SORT_TARGETS[sort.target];
  const sortOrder =
    sort === undefined ? etcdserverpb.RangeRequest_SortOrder.NONE : SORT_ORDERS[sort.order ?? "ascend"];
  if (sortTarget === undefined || sortOrder === undefined)
    throw badRequest(`invalid sort ${JSON.stringify(sort)}`);
  // A literal with every field (no fromPartial): this runs on every read.
  const request: etcdserverpb.RangeRequest = {
    key: wireKey,
    rangeEnd,
    limit: nonNegative(options.limit, "limit"),
    revision: nonNegative(options.revision, "revision"),
    sortOrder,
    sortTarget,
    serializable: options.serializable === true,
    keysOnly: options.keysOnly === true,
    countOnly: options.countOnly === true,
    minModRevision: nonNegative(options.minModRevision, "minModRevision"),
    maxModRevision: nonNegative(options.maxModRevision, "maxModRevision"),
    minCreateRevision: nonNegative(options.minCreateRevision, "minCreateRevision"),
    maxCreateRevision: nonNegative(options.maxCreateRevision, "maxCreateRevision"),
  };
  checkBounds(request.minModRevision, request.maxModRevision, "mod");
  checkBounds(request.minCreateRevision, request.maxCreateRevision, "create");
  return request;
}

function checkBounds(min: bigint, max: bigint, what: string): void {
  if (max !== 0n && min > max)
    throw badRequest(`min${what}Revision ${min} is above max${what}Revision ${max}`);
}

/** Builds and validates a PutRequest. */
export function putRequest(
  key: Bytes,
  value: Bytes,
  options: PutOptions,
  mapper: KeyMapper,
): etcdserverpb.PutRequest {
  checkOptionNames(options, ["lease", "prevKv", "ignoreValue", "ignoreLease"], "put");
  const valueBytes = checkedBytes(value, "value");
  if (options.ignoreValue === true && valueBytes.length > 0)
    throw badRequest("a value cannot be given with ignoreValue");
  if (options.ignoreLease === true && options.lease !== undefined && options.lease !== 0n) {
    throw badRequest("a lease cannot be given with ignoreLease");
  }
  return {
    key: mapper.key(toKey(key)),
    value: valueBytes,
    lease: nonNegative(options.lease, "lease"),
    prevKv: options.prevKv === true,
    ignoreValue: options.ignoreValue === true,
    ignoreLease: options.ignoreLease === true,
  };
}

/** Builds and validates a DeleteRangeRequest. */
export function deleteRequest(
  key: Bytes,
  options: DeleteOptions,
  mapper: KeyMapper,
): etcdserverpb.DeleteRangeRequest {
  checkOptionNames(options, [...SELECTOR_KEYS, "prevKv"], "delete");
  return { ...mapper.range(selectRange(key, options)), prevKv: options.prevKv === true };
}
