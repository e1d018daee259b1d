import { etcdserverpb } from "@keyway/api";
import { badRequest } from "./errors.js";
import type { KeyMapper } from "./key-mapper.js";
import { type Bytes, checkedBytes, type RangeSelector, selectRange, type WireRange } from "./keys.js";

/** Comparison operators of a txn compare. */
export type CompareOperator = "==" | "!=" | ">" | "<";

const RESULTS: Record<CompareOperator, etcdserverpb.Compare_CompareResult> = {
  "==": etcdserverpb.Compare_CompareResult.EQUAL,
  "!=": etcdserverpb.Compare_CompareResult.NOT_EQUAL,
  ">": etcdserverpb.Compare_CompareResult.GREATER,
  "<": etcdserverpb.Compare_CompareResult.LESS,
};

type TargetUnion = NonNullable<etcdserverpb.Compare["targetUnion"]>;

/**
 * One validated txn condition. With a range (`{ prefix: true }` or `{ end }`), every key in the
 * range must satisfy it. A compare on a missing key sees zeros (so `create == 0n` means "absent"),
 * except a value compare, which is false.
 */
export class Comparison {
  private constructor(
    private readonly range: WireRange,
    private readonly result: etcdserverpb.Compare_CompareResult,
    private readonly target: etcdserverpb.Compare_CompareTarget,
    private readonly union: TargetUnion,
  ) {}

  /** @internal Builds a comparison; validates everything now, not at commit. */
  static of(
    key: Bytes,
    operator: CompareOperator,
    target: etcdserverpb.Compare_CompareTarget,
    union: TargetUnion,
    range: RangeSelector | undefined,
  ): Comparison {
    const result = RESULTS[operator];
    if (result === undefined) throw badRequest(`invalid compare operator ${JSON.stringify(operator)}`);
    return new Comparison(selectRange(key, range), result, target, union);
  }

  /** The wire Compare, keys mapped through a namespace. */
  toProto(mapper: KeyMapper): etcdserverpb.Compare {
    const { key, rangeEnd } = mapper.range(this.range);
    return { key, rangeEnd, result: this.result, target: this.target, targetUnion: this.union };
  }
}

function revisionArg(value: bigint, what: string): bigint {
  if (typeof value !== "bigint") throw badRequest(`${what} must be a bigint, got ${typeof value}`);
  if (value < 0n) throw badRequest(`${what} must not be negative`);
  return value;
}

const T = etcdserverpb.Compare_CompareTarget;

/** Builders for txn conditions: `compare.value("k", "==", "v")`, `compare.create("k", "==", 0n)`. */
export const compare = {
  /** Compares the value bytes. */
  value(key: Bytes, op: CompareOperator, value: Bytes, range?: RangeSelector): Comparison {
    return Comparison.of(key, op, T.VALUE, { $case: "value", value: checkedBytes(value, "value") }, range);
  },
  /** Compares the version (0n: absent). */
  version(key: Bytes, op: CompareOperator, version: bigint, range?: RangeSelector): Comparison {
    return Comparison.of(
      key,
      op,
      T.VERSION,
      { $case: "version", version: revisionArg(version, "version") },
      range,
    );
  },
  /** Compares the create revision (0n: absent). */
  create(key: Bytes, op: CompareOperator, revision: bigint, range?: RangeSelector): Comparison {
    const createRevision = revisionArg(revision, "create revision");
    return Comparison.of(key, op, T.CREATE, { $case: "createRevision", createRevision }, range);
  },
  /** Compares the last modification revision. */
  mod(key: Bytes, op: CompareOperator, revision: bigint, range?: RangeSelector): Comparison {
    const modRevision = revisionArg(revision, "mod revision");
    return Comparison.of(key, op, T.MOD, { $case: "modRevision", modRevision }, range);
  },
  /** Compares the attached lease id (0n: none). */
  lease(key: Bytes, op: CompareOperator, lease: bigint, range?: RangeSelector): Comparison {
    return Comparison.of(key, op, T.LEASE, { $case: "lease", lease: revisionArg(lease, "lease") }, range);
  },
};
