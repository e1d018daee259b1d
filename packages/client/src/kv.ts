import { etcdserverpb } from "@keyway/api";
import type { CallOptions } from "./call-options.js";
import type { KeyMapper } from "./key-mapper.js";
import type { KeyValue } from "./key-value.js";
import { type Bytes, nonNegative } from "./keys.js";
import {
  checkOptionNames,
  type DeleteOptions,
  deleteRequest,
  type GetOptions,
  type PutOptions,
  putRequest,
  type RangeOptions,
  rangeRequest,
} from "./requests.js";
import {
  type DeleteResult,
  headerOf,
  type PutResult,
  type RangeResult,
  type ResponseHeader,
  toDeleteResult,
  toPutResult,
  toRangeResult,
} from "./results.js";
import type { Transport } from "./transport.js";
import { Txn } from "./txn.js";

const KV = etcdserverpb.KVService;

/** Options of Compact. */
export interface CompactOptions extends CallOptions {
  /** Wait until the compaction is physically applied. */
  physical?: boolean;
}

/**
 * Key-value operations. Reads (range, get) are retried on UNAVAILABLE; put, delete, txn and
 * compact are never sent twice.
 */
export class KVClient {
  constructor(
    private readonly transport: Transport,
    private readonly mapper: KeyMapper,
  ) {}

  /** The key-value at `key`, or undefined if it does not exist (at `revision`, if given). */
  async get(key: Bytes, options: GetOptions & CallOptions = {}): Promise<KeyValue | undefined> {
    checkOptionNames(options, ["revision", "serializable", "keysOnly"], "get");
    const result = await this.range(key, options);
    return result.kvs[0];
  }

  /** Every Range option: prefix, end, fromKey, limit, revision, sort, serializable, ... */
  async range(key: Bytes, options: RangeOptions & CallOptions = {}): Promise<RangeResult> {
    const { signal, timeoutMs, ...rangeOptions } = options;
    const request = rangeRequest(key, rangeOptions, this.mapper);
    const response = await this.transport.unary(KV.range, request, "safe", callOptions(signal, timeoutMs));
    return toRangeResult(response, this.mapper);
  }

  /** Writes `value` at `key`. */
  async put(key: Bytes, value: Bytes, options: PutOptions & CallOptions = {}): Promise<PutResult> {
    const { signal, timeoutMs, ...putOptions } = options;
    const request = putRequest(key, value, putOptions, this.mapper);
    const response = await this.transport.unary(KV.put, request, "unsafe", callOptions(signal, timeoutMs));
    return toPutResult(response, this.mapper);
  }

  /** Deletes a key or a range (`prefix`, `end`, `fromKey`). */
  async delete(key: Bytes, options: DeleteOptions & CallOptions = {}): Promise<DeleteResult> {
    const { signal, timeoutMs, ...deleteOptions } = options;
    const request = deleteRequest(key, deleteOptions, this.mapper);
    const response = await this.transport.unary(
      KV.deleteRange,
      request,
      "unsafe",
      callOptions(signal, timeoutMs),
    );
    return toDeleteResult(response, this.mapper);
  }

  /** Drops history before `revision`; reads and watches below it then fail with `compacted`. */
  async compact(revision: bigint, options: CompactOptions = {}): Promise<ResponseHeader> {
    checkOptionNames(options, ["physical"], "compact");
    const request = { revision: nonNegative(revision, "revision"), physical: options.physical === true };
    const response = await this.transport.unary(
      KV.compact,
      request,
      "unsafe",
      callOptions(options.signal, options.timeoutMs),
    );
    return headerOf(response.header);
  }

  /** A txn builder bound to this client (and namespace). */
  txn(): Txn {
    return new Txn(
      (request, options) => this.transport.unary(KV.txn, request, "unsafe", options),
      this.mapper,
    );
  }
}

/** Rebuilds CallOptions without undefined members (exactOptionalPropertyTypes). */
export function callOptions(signal: AbortSignal | undefined, timeoutMs: number | undefined): CallOptions {
  const options: CallOptions = {};
  if (signal !== undefined) options.signal = signal;
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  return options;
}
