import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { etcdserverpb, keywaypb, type mvccpb } from "@keyway/api";
import { expect } from "vitest";
import { type ApplyOutcome, StateMachine, type StateMachineOptions } from "../../src/apply/index.js";
import type { EtcdServerError } from "../../src/errors.js";

/** Buffer from a string (keys and values in tests are ASCII). */
export const b = (text: string): Buffer => Buffer.from(text, "latin1");

type Request = NonNullable<keywaypb.InternalRequest["request"]>;
/** A TxnRequest as fromPartial accepts it. */
export type TxnInput = Parameters<typeof etcdserverpb.TxnRequest.fromPartial>[0];

/** Request builders. */
export const req = {
  put: (key: string, value: string, extra: Partial<etcdserverpb.PutRequest> = {}): Request => ({
    $case: "put",
    put: etcdserverpb.PutRequest.fromPartial({ key: b(key), value: b(value), ...extra }),
  }),
  del: (key: string, rangeEnd = "", extra: Partial<etcdserverpb.DeleteRangeRequest> = {}): Request => ({
    $case: "deleteRange",
    deleteRange: etcdserverpb.DeleteRangeRequest.fromPartial({
      key: b(key),
      rangeEnd: b(rangeEnd),
      ...extra,
    }),
  }),
  txn: (txn: TxnInput): Request => ({
    $case: "txn",
    txn: etcdserverpb.TxnRequest.fromPartial(txn),
  }),
  compact: (revision: number, physical = false): Request => ({
    $case: "compaction",
    compaction: { revision: BigInt(revision), physical },
  }),
  grant: (id: bigint, ttlSeconds: bigint | number = 60n): Request => ({
    $case: "leaseGrant",
    leaseGrant: { ID: id, TTL: BigInt(ttlSeconds) },
  }),
  revoke: (id: bigint): Request => ({ $case: "leaseRevoke", leaseRevoke: { ID: id } }),
};

/** The minimum lease TTL the harness applies with (etcd's default, 2 s). */
export const MIN_TTL_SECONDS = 2;

/** RequestOp builders for txns. */
export const op = {
  range: (key: string, rangeEnd = "", extra: Partial<etcdserverpb.RangeRequest> = {}) => ({
    request: {
      $case: "requestRange" as const,
      requestRange: { key: b(key), rangeEnd: b(rangeEnd), ...extra },
    },
  }),
  put: (key: string, value: string, extra: Partial<etcdserverpb.PutRequest> = {}) => ({
    request: { $case: "requestPut" as const, requestPut: { key: b(key), value: b(value), ...extra } },
  }),
  del: (key: string, rangeEnd = "", extra: Partial<etcdserverpb.DeleteRangeRequest> = {}) => ({
    request: {
      $case: "requestDeleteRange" as const,
      requestDeleteRange: { key: b(key), rangeEnd: b(rangeEnd), ...extra },
    },
  }),
  txn: (txn: TxnInput) => ({
    request: { $case: "requestTxn" as const, requestTxn: txn },
  }),
};

/** A state machine in a temporary directory with a log index counter. */
export class Harness {
  private nextIndex: number;

  private constructor(
    readonly dir: string,
    public sm: StateMachine,
    private readonly options: Omit<StateMachineOptions, "dir">,
  ) {
    this.nextIndex = sm.appliedIndex + 1;
  }

  /** Opens a fresh state machine and grants `leases` (60 s each; a grant makes no revision). */
  static open(
    leases: bigint[] = [],
    extra: Partial<StateMachineOptions> = {},
    dir = mkdtempSync(join(tmpdir(), "keyway-apply-")),
  ): Harness {
    const options = { minLeaseTtlSeconds: MIN_TTL_SECONDS, ...extra };
    const harness = new Harness(dir, StateMachine.open({ ...options, dir }), options);
    for (const id of leases) harness.ok(req.grant(id));
    return harness;
  }

  /** Applies requests as one batch with the next log indexes. */
  applyAll(...requests: Request[]): ApplyOutcome[] {
    const entries = requests.map((request) => ({
      index: this.nextIndex++,
      term: 1,
      request: keywaypb.InternalRequest.fromPartial({ id: BigInt(this.nextIndex), request }),
    }));
    return this.sm.applyBatch(entries);
  }

  /** Applies one request that must succeed; returns its response. */
  ok<T = etcdserverpb.PutResponse & etcdserverpb.DeleteRangeResponse & etcdserverpb.TxnResponse>(
    request: Request,
  ): T {
    const [outcome] = this.applyAll(request);
    if (outcome === undefined || !outcome.ok) throw outcome?.error ?? new Error("no outcome");
    return outcome.response as T;
  }

  /** Applies one request that must fail; returns the error reason. */
  fail(request: Request): EtcdServerError["reason"] {
    const [outcome] = this.applyAll(request);
    expect(outcome?.ok).toBe(false);
    return (outcome as { error: EtcdServerError }).error.reason;
  }

  /** Range with defaults. */
  range(
    key: string,
    rangeEnd = "",
    extra: Partial<etcdserverpb.RangeRequest> = {},
  ): etcdserverpb.RangeResponse {
    return this.sm.range(
      etcdserverpb.RangeRequest.fromPartial({ key: b(key), rangeEnd: b(rangeEnd), ...extra }),
    );
  }

  /** Keys (as strings) of a range. */
  keys(key: string, rangeEnd = "", extra: Partial<etcdserverpb.RangeRequest> = {}): string[] {
    return this.range(key, rangeEnd, extra).kvs.map((kv) => kv.key.toString("latin1"));
  }

  /** Closes and reopens the state machine on the same directory. */
  async reopen(): Promise<void> {
    await this.sm.close();
    this.sm = StateMachine.open({ ...this.options, dir: this.dir });
    this.nextIndex = this.sm.appliedIndex + 1;
  }

  /** Sets the next log index (to replay entries). */
  rewindTo(index: number): void {
    this.nextIndex = index;
  }

  async close(): Promise<void> {
    await this.sm.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A KeyValue in plain numbers for readable expectations. */
export function plain(kv: mvccpb.KeyValue | undefined) {
  if (kv === undefined) return undefined;
  return {
    key: kv.key.toString("latin1"),
    value: kv.value.toString("latin1"),
    create: Number(kv.createRevision),
    mod: Number(kv.modRevision),
    version: Number(kv.version),
    lease: Number(kv.lease),
  };
}
