import type { etcdserverpb } from "@keyway/api";
import type { CallOptions } from "./call-options.js";
import { Comparison } from "./compare.js";
import { badRequest, KeywayError } from "./errors.js";
import { identityMapper, type KeyMapper } from "./key-mapper.js";
import type { Bytes } from "./keys.js";
import {
  type DeleteOptions,
  deleteRequest,
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

/** One operation of a txn branch: a get, put, delete or nested txn, validated when built. */
export class Op {
  private constructor(private readonly build: (mapper: KeyMapper) => etcdserverpb.RequestOp) {
    build(identityMapper);
  }

  /** @internal */
  static of(build: (mapper: KeyMapper) => etcdserverpb.RequestOp): Op {
    return new Op(build);
  }

  /** The wire RequestOp, keys mapped through a namespace. */
  toProto(mapper: KeyMapper): etcdserverpb.RequestOp {
    return this.build(mapper);
  }
}

/** Builders for txn operations. */
export const op = {
  /** A range read (every range option). */
  get(key: Bytes, options: RangeOptions = {}): Op {
    return Op.of((m) => ({
      request: { $case: "requestRange", requestRange: rangeRequest(key, options, m) },
    }));
  },
  /** A put. */
  put(key: Bytes, value: Bytes, options: PutOptions = {}): Op {
    return Op.of((m) => ({
      request: { $case: "requestPut", requestPut: putRequest(key, value, options, m) },
    }));
  },
  /** A delete of a key or range. */
  delete(key: Bytes, options: DeleteOptions = {}): Op {
    return Op.of((m) => ({
      request: { $case: "requestDeleteRange", requestDeleteRange: deleteRequest(key, options, m) },
    }));
  },
  /** A nested txn (etcd 3.3+); its branches run inside the outer branch, in the same revision. */
  txn(nested: Txn): Op {
    if (!(nested instanceof Txn)) throw badRequest("op.txn expects a txn() builder");
    return Op.of((m) => ({ request: { $case: "requestTxn", requestTxn: nested.toProto(m) } }));
  },
};

/** The result of one operation of the branch that ran. */
export type TxnOpResult =
  | { type: "range"; range: RangeResult }
  | { type: "put"; put: PutResult }
  | { type: "delete"; delete: DeleteResult }
  | { type: "txn"; txn: TxnResult };

/** A committed txn's result. */
export interface TxnResult {
  /** True when every compare held and the `then` branch ran. */
  succeeded: boolean;
  /** One result per operation of the branch that ran, in order. */
  responses: TxnOpResult[];
  /** Store revision after the txn. */
  revision: bigint;
  header: ResponseHeader;
}

/** Sends a TxnRequest; supplied by the client or a namespace. */
export type TxnRunner = (
  request: etcdserverpb.TxnRequest,
  options: CallOptions | undefined,
) => Promise<etcdserverpb.TxnResponse>;

/**
 * A txn builder: `txn().if(...compares).then(...ops).else(...ops).commit()`. Each part may be
 * given once and in that order; misuse throws at once. The builder is not a promise: awaiting
 * it rejects with a hint to call `commit()`, and nothing is sent until `commit()`.
 */
export class Txn {
  private readonly compares: Comparison[] = [];
  private readonly success: Op[] = [];
  private readonly failure: Op[] = [];
  private stage: "new" | "if" | "then" | "else" = "new";

  constructor(
    private readonly runner?: TxnRunner,
    private readonly mapper: KeyMapper = identityMapper,
  ) {}

  /** Conditions; all must hold for `then` to run. */
  if(...compares: Comparison[]): this {
    if (this.stage !== "new")
      throw badRequest(`txn.if() must come first and only once (after ${this.stage})`);
    for (const c of compares)
      if (!(c instanceof Comparison)) throw badRequest("txn.if() takes compare.*() values");
    this.stage = "if";
    this.compares.push(...compares);
    return this;
  }

  /** Operations to run when the conditions hold. */
  // biome-ignore lint/suspicious/noThenProperty: if/then/else is the txn API; awaiting the builder is refused below.
  then(...ops: Op[]): this {
    if (typeof ops[0] === "function") {
      // Someone awaited the builder: refuse loudly instead of running (or hanging).
      const error = badRequest("a txn is not a promise: call .commit() to run it");
      const reject = ops[1] as unknown;
      if (typeof reject === "function") reject(error);
      return this;
    }
    if (this.stage === "then" || this.stage === "else")
      throw badRequest("txn.then() may be given only once, before else()");
    this.stage = "then";
    this.success.push(...checkOps(ops, "then"));
    return this;
  }

  /** Operations to run when a condition fails. */
  else(...ops: Op[]): this {
    if (this.stage === "else") throw badRequest("txn.else() may be given only once");
    this.stage = "else";
    this.failure.push(...checkOps(ops, "else"));
    return this;
  }

  /** The wire TxnRequest. */
  toProto(mapper: KeyMapper = this.mapper): etcdserverpb.TxnRequest {
    return {
      compare: this.compares.map((c) => c.toProto(mapper)),
      success: this.success.map((o) => o.toProto(mapper)),
      failure: this.failure.map((o) => o.toProto(mapper)),
    };
  }

  /** Sends the txn (never retried: it may write). */
  async commit(options?: CallOptions): Promise<TxnResult> {
    if (this.runner === undefined)
      throw badRequest("this txn() is only for nesting with op.txn(); use client.txn()");
    const response = await this.runner(this.toProto(), options);
    return toTxnResult(response, this.mapper);
  }
}

function checkOps(ops: readonly Op[], where: string): readonly Op[] {
  for (const o of ops) if (!(o instanceof Op)) throw badRequest(`txn.${where}() takes op.*() values`);
  return ops;
}

/** Converts a wire TxnResponse, mapping keys back through the namespace. */
export function toTxnResult(response: etcdserverpb.TxnResponse, mapper: KeyMapper): TxnResult {
  const header = headerOf(response.header);
  const responses = response.responses.map((r): TxnOpResult => {
    const inner = r.response;
    switch (inner?.$case) {
      case "responseRange":
        return { type: "range", range: toRangeResult(inner.responseRange, mapper) };
      case "responsePut":
        return { type: "put", put: toPutResult(inner.responsePut, mapper) };
      case "responseDeleteRange":
        return { type: "delete", delete: toDeleteResult(inner.responseDeleteRange, mapper) };
      case "responseTxn":
        return { type: "txn", txn: toTxnResult(inner.responseTxn, mapper) };
      default:
        throw KeywayError.from(new Error("etcd sent a txn response with an empty operation"));
    }
  });
  return { succeeded: response.succeeded, responses, revision: header.revision, header };
}
