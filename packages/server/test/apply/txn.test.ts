import { etcdserverpb } from "@keyway/api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isReadOnlyTxn } from "../../src/apply/index.js";
import { b, Harness, op, plain, req, type TxnInput } from "./harness.js";

const { CompareResult: R, CompareTarget: T } = {
  CompareResult: etcdserverpb.Compare_CompareResult,
  CompareTarget: etcdserverpb.Compare_CompareTarget,
};

type Operand = NonNullable<etcdserverpb.Compare["targetUnion"]>;

const cmp = (key: string, target: number, result: number, operand: Operand | undefined, rangeEnd = "") => ({
  key: b(key),
  rangeEnd: b(rangeEnd),
  target,
  result,
  targetUnion: operand,
});
const version = (v: number): Operand => ({ $case: "version", version: BigInt(v) });
const create = (v: number): Operand => ({ $case: "createRevision", createRevision: BigInt(v) });
const mod = (v: number): Operand => ({ $case: "modRevision", modRevision: BigInt(v) });
const value = (v: string): Operand => ({ $case: "value", value: b(v) });
const lease = (v: number): Operand => ({ $case: "lease", lease: BigInt(v) });

describe("Txn", () => {
  let h: Harness;
  // rev 2 a=1 (lease 5), rev 3 b=2, rev 4 a=3: a {create 2, mod 4, version 2, lease 0}, b {3, 3, 1}
  beforeEach(() => {
    h = Harness.open([5n]);
    h.applyAll(req.put("a", "1", { lease: 5n }), req.put("b", "2"), req.put("a", "3", { lease: 5n }));
  });
  afterEach(() => h.close());

  const succeeds = (...compare: ReturnType<typeof cmp>[]) =>
    h.ok(req.txn({ compare, success: [op.range("a")], failure: [] })).succeeded;

  it("compares every target with every result", () => {
    expect(succeeds(cmp("a", T.VERSION, R.EQUAL, version(2)))).toBe(true);
    expect(succeeds(cmp("a", T.VERSION, R.GREATER, version(1)))).toBe(true);
    expect(succeeds(cmp("a", T.VERSION, R.LESS, version(2)))).toBe(false);
    expect(succeeds(cmp("a", T.VERSION, R.NOT_EQUAL, version(2)))).toBe(false);
    expect(succeeds(cmp("a", T.CREATE, R.EQUAL, create(2)))).toBe(true);
    expect(succeeds(cmp("a", T.MOD, R.EQUAL, mod(4)))).toBe(true);
    expect(succeeds(cmp("a", T.MOD, R.LESS, mod(4)))).toBe(false);
    expect(succeeds(cmp("a", T.VALUE, R.EQUAL, value("3")))).toBe(true);
    expect(succeeds(cmp("a", T.VALUE, R.GREATER, value("2")))).toBe(true);
    expect(succeeds(cmp("a", T.VALUE, R.LESS, value("2")))).toBe(false);
    expect(succeeds(cmp("a", T.LEASE, R.EQUAL, lease(5)))).toBe(true);
    expect(succeeds(cmp("b", T.LEASE, R.EQUAL, lease(0)))).toBe(true);
    // all compares must hold
    expect(succeeds(cmp("a", T.VERSION, R.EQUAL, version(2)), cmp("b", T.VERSION, R.EQUAL, version(9)))).toBe(
      false,
    );
  });

  it("compares a missing key as a zero KeyValue, except VALUE which is false", () => {
    expect(succeeds(cmp("x", T.CREATE, R.EQUAL, create(0)))).toBe(true);
    expect(succeeds(cmp("x", T.VERSION, R.EQUAL, version(0)))).toBe(true);
    expect(succeeds(cmp("x", T.MOD, R.LESS, mod(1)))).toBe(true);
    expect(succeeds(cmp("x", T.LEASE, R.EQUAL, lease(0)))).toBe(true);
    expect(succeeds(cmp("x", T.VALUE, R.EQUAL, value("")))).toBe(false);
    expect(succeeds(cmp("x", T.VALUE, R.NOT_EQUAL, value("")))).toBe(false);
  });

  it("requires every key of a range compare to satisfy it", () => {
    expect(succeeds(cmp("a", T.CREATE, R.GREATER, create(1), "c"))).toBe(true);
    expect(succeeds(cmp("a", T.CREATE, R.GREATER, create(2), "c"))).toBe(false);
    expect(succeeds(cmp("a", T.VALUE, R.GREATER, value("0"), "\0"))).toBe(true);
    expect(succeeds(cmp("c", T.VERSION, R.EQUAL, version(0), "\0"))).toBe(true);
  });

  it("treats a missing operand as zero and an unknown result as satisfied", () => {
    expect(succeeds(cmp("b", T.VERSION, R.GREATER, undefined))).toBe(true);
    expect(succeeds(cmp("b", T.VERSION, R.EQUAL, mod(1)))).toBe(false);
    expect(succeeds(cmp("b", T.VERSION, 9, version(100)))).toBe(true);
  });

  it("runs the failure branch and reports succeeded=false", () => {
    const response = h.ok(
      req.txn({
        compare: [cmp("a", T.VALUE, R.EQUAL, value("nope"))],
        success: [op.put("s", "1")],
        failure: [op.put("f", "1")],
      }),
    );
    expect(response.succeeded).toBe(false);
    expect(h.keys("f")).toEqual(["f"]);
    expect(h.keys("s")).toEqual([]);
  });

  it("writes in one revision with sub-revisions; inner headers carry only revision", () => {
    const response = h.ok(
      req.txn({
        success: [
          op.put("c", "1"),
          op.range("c"),
          op.del("b"),
          op.put("d", "1", { prevKv: true }),
          op.range("a", "\0"),
        ],
      }),
    );
    expect(response.header?.revision).toBe(5n);
    const [put, range, del, put2, range2] = response.responses.map((r) => r.response);
    expect(put).toEqual({
      $case: "responsePut",
      responsePut: { header: etcdserverpb.ResponseHeader.fromPartial({ revision: 5n }), prevKv: undefined },
    });
    // the range sees the txn's own put
    expect(range?.$case === "responseRange" && range.responseRange.kvs.map(plain)).toEqual([
      { key: "c", value: "1", create: 5, mod: 5, version: 1, lease: 0 },
    ]);
    expect(range?.$case === "responseRange" && range.responseRange.header?.revision).toBe(5n);
    expect(del?.$case === "responseDeleteRange" && del.responseDeleteRange.deleted).toBe(1n);
    expect(put2?.$case === "responsePut" && put2.responsePut.prevKv).toBeUndefined();
    expect(
      range2?.$case === "responseRange" && range2.responseRange.kvs.map((kv) => kv.key.toString()),
    ).toEqual(["a", "c", "d"]);
    expect(h.sm.currentRevision).toBe(5);
    const events: string[] = [];
    h.sm.onEvents((rev, evs) => events.push(`${rev}:${evs.length}`));
    h.ok(req.txn({ success: [op.put("x", "1"), op.put("y", "1")] }));
    expect(events).toEqual(["6:2"]);
    expect(plain(h.range("y").kvs[0])).toMatchObject({ mod: 6, create: 6 });
  });

  it("keeps the revision for a txn that changes nothing", () => {
    const response = h.ok(req.txn({ success: [op.range("a"), op.del("nothing")] }));
    expect(response.header?.revision).toBe(4n);
    const del = response.responses[1]?.response;
    expect(del?.$case === "responseDeleteRange" && del.responseDeleteRange.header?.revision).toBe(4n);
    expect(h.sm.currentRevision).toBe(4);
  });

  it("evaluates nested txns on the state before the txn, with empty nested headers", () => {
    const response = h.ok(
      req.txn({
        success: [
          op.put("n", "1"),
          op.txn({
            compare: [cmp("n", T.VERSION, R.EQUAL, version(0))],
            success: [op.put("inner", "then"), op.range("n")],
            failure: [op.put("inner", "else")],
          }),
        ],
      }),
    );
    const nested = response.responses[1]?.response;
    expect(nested?.$case).toBe("responseTxn");
    if (nested?.$case !== "responseTxn") return;
    expect(nested.responseTxn.succeeded).toBe(true);
    expect(nested.responseTxn.header).toEqual(etcdserverpb.ResponseHeader.fromPartial({}));
    const innerRange = nested.responseTxn.responses[1]?.response;
    expect(innerRange?.$case === "responseRange" && innerRange.responseRange.kvs.length).toBe(1);
    expect(h.range("inner").kvs[0]?.value.toString()).toBe("then");
    expect(response.header?.revision).toBe(5n);
  });

  it("aborts before any change on errors inside the chosen branch", () => {
    h.ok(req.compact(3));
    const before = h.sm.currentRevision;
    const failing: [TxnInput, string][] = [
      [{ success: [op.put("z", "1"), op.range("a", "", { revision: 2n })] }, "compacted"],
      [{ success: [op.put("z", "1"), op.range("a", "", { revision: 99n })] }, "futureRev"],
      [{ success: [op.put("z", "1"), op.put("q", "1", { lease: 77n })] }, "leaseNotFound"],
      [{ success: [op.put("z", "1"), op.put("q", "", { ignoreValue: true })] }, "keyNotFound"],
      [{ success: [op.put("z", "1"), op.put("q", "", { ignoreValue: true, lease: 77n })] }, "keyNotFound"],
      [
        { success: [op.put("z", "1"), op.txn({ success: [op.put("q", "", { ignoreLease: true })] })] },
        "keyNotFound",
      ],
      [{ success: [op.put("z", "1"), op.range("a", "", { revision: -1n })] }, "compacted"],
    ];
    for (const [txn, reason] of failing) expect(h.fail(req.txn(txn))).toBe(reason);
    expect(h.sm.currentRevision).toBe(before);
    expect(h.keys("z")).toEqual([]);
    // the branch not taken is not checked
    const response = h.ok(
      req.txn({
        compare: [cmp("a", T.VERSION, R.EQUAL, version(0))],
        success: [op.put("q", "1", { lease: 77n })],
        failure: [op.put("z", "1")],
      }),
    );
    expect(response.succeeded).toBe(false);
  });

  it("refuses a txn range below the compaction revision even when negative (etcd 3.4, observed)", () => {
    // Never compacted, etcd's compaction revision is -1: -5 is below it, -1 is not.
    expect(h.fail(req.txn({ success: [op.range("a", "", { revision: -5n })] }))).toBe("compacted");
    expect(h.ok(req.txn({ success: [op.range("a", "", { revision: -1n })] })).succeeded).toBe(true);
    expect(h.range("a", "", { revision: -5n }).kvs).toHaveLength(1);
  });

  it("serves read-only txns without the log", () => {
    const txn = etcdserverpb.TxnRequest.fromPartial({
      compare: [cmp("a", T.VERSION, R.EQUAL, version(2))],
      success: [op.range("a", "\0", { limit: 1n })],
      failure: [op.range("b")],
    });
    expect(isReadOnlyTxn(txn)).toBe(true);
    const response = h.sm.readTxn(txn);
    expect(response.succeeded).toBe(true);
    expect(response.header?.revision).toBe(4n);
    const range = response.responses[0]?.response;
    expect(range?.$case === "responseRange" && range.responseRange.more).toBe(true);
    expect(isReadOnlyTxn(etcdserverpb.TxnRequest.fromPartial({ failure: [op.txn({})] }))).toBe(false);
    expect(() =>
      h.sm.readTxn(etcdserverpb.TxnRequest.fromPartial({ success: [op.put("a", "1")] })),
    ).toThrow();
  });
});
