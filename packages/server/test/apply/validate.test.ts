import { etcdserverpb } from "@keyway/api";
import { describe, expect, it } from "vitest";
import {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
} from "../../src/apply/index.js";
import { EtcdServerError } from "../../src/errors.js";
import { b, op, type TxnInput } from "./harness.js";

const reasonOf = (check: () => void): string | undefined => {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof EtcdServerError) return error.reason;
    throw error;
  }
};
const txnReason = (txn: TxnInput, maxTxnOps = 128) =>
  reasonOf(() => checkTxnRequest(etcdserverpb.TxnRequest.fromPartial(txn), maxTxnOps));

describe("request checks before proposing", () => {
  it("rejects empty keys", () => {
    expect(reasonOf(() => checkRangeRequest(etcdserverpb.RangeRequest.fromPartial({})))).toBe("emptyKey");
    expect(reasonOf(() => checkPutRequest(etcdserverpb.PutRequest.fromPartial({ value: b("v") })))).toBe(
      "emptyKey",
    );
    expect(reasonOf(() => checkDeleteRangeRequest(etcdserverpb.DeleteRangeRequest.fromPartial({})))).toBe(
      "emptyKey",
    );
    expect(txnReason({ compare: [{ key: b("") }] })).toBe("emptyKey");
    expect(txnReason({ success: [op.range("")] })).toBe("emptyKey");
    expect(txnReason({ failure: [op.txn({ success: [op.del("")] })] })).toBe("emptyKey");
  });

  it("checks ignore_value and ignore_lease against a given value or lease", () => {
    const put = (partial: Partial<etcdserverpb.PutRequest>) =>
      reasonOf(() => checkPutRequest(etcdserverpb.PutRequest.fromPartial({ key: b("k"), ...partial })));
    expect(put({ ignoreValue: true, value: b("v") })).toBe("valueProvided");
    expect(put({ ignoreLease: true, lease: 1n })).toBe("leaseProvided");
    expect(put({ ignoreValue: true, ignoreLease: true })).toBeUndefined();
    expect(txnReason({ success: [op.put("k", "v", { ignoreValue: true })] })).toBe("valueProvided");
  });

  it("accepts unknown sort orders like etcd 3.4, and refuses an unknown target it would crash on", () => {
    const range = (sortOrder: number, sortTarget: number) =>
      reasonOf(() =>
        checkRangeRequest(etcdserverpb.RangeRequest.fromPartial({ key: b("k"), sortOrder, sortTarget })),
      );
    expect(range(7, 0)).toBeUndefined();
    expect(range(7, 9)).toBeUndefined();
    expect(range(0, 9)).toBe("invalidSortOption");
    expect(range(2, 9)).toBe("invalidSortOption");
    expect(range(2, 4)).toBeUndefined();
  });

  it("limits ops per txn, nested txns sharing the budget", () => {
    const puts = (n: number) => Array.from({ length: n }, (_, i) => op.put(`k${i}`, "v"));
    expect(txnReason({ success: puts(3) }, 3)).toBeUndefined();
    expect(txnReason({ success: puts(4) }, 3)).toBe("tooManyOps");
    expect(txnReason({ compare: Array.from({ length: 4 }, () => ({ key: b("k") })) }, 3)).toBe("tooManyOps");
    expect(txnReason({ success: [op.txn({ success: puts(1) })] }, 2)).toBeUndefined();
    expect(txnReason({ success: [op.txn({ success: puts(2) })] }, 2)).toBe("tooManyOps");
  });

  it("rejects an op with no request as key not found", () => {
    expect(txnReason({ success: [{ request: undefined }] })).toBe("keyNotFound");
  });

  it("rejects a key written twice in one branch", () => {
    expect(txnReason({ success: [op.put("a", "1"), op.put("a", "2")] })).toBe("duplicateKey");
    expect(txnReason({ success: [op.put("b", "1"), op.del("a", "c")] })).toBe("duplicateKey");
    expect(txnReason({ success: [op.del("b"), op.put("b", "1")] })).toBe("duplicateKey");
    expect(txnReason({ success: [op.put("a", "1"), op.txn({ success: [op.put("a", "2")] })] })).toBe(
      "duplicateKey",
    );
    expect(txnReason({ success: [op.del("a", "c"), op.txn({ failure: [op.put("b", "2")] })] })).toBe(
      "duplicateKey",
    );
    expect(txnReason({ success: [op.txn({ success: [op.del("a", "z")] }), op.put("b", "1")] })).toBe(
      "duplicateKey",
    );
    expect(
      txnReason({
        success: [op.txn({ success: [op.put("a", "1")] }), op.txn({ failure: [op.put("a", "2")] })],
      }),
    ).toBe("duplicateKey");
  });

  it("allows what etcd allows", () => {
    expect(txnReason({ success: [op.put("a", "1")], failure: [op.put("a", "2")] })).toBeUndefined();
    expect(
      txnReason({ success: [op.txn({ success: [op.put("a", "1")], failure: [op.put("a", "2")] })] }),
    ).toBeUndefined();
    expect(txnReason({ success: [op.del("a", "c"), op.del("b", "d")] })).toBeUndefined();
    expect(txnReason({ success: [op.put("c", "1"), op.del("a", "c")] })).toBeUndefined();
    expect(txnReason({ success: [op.range("a"), op.put("a", "1")] })).toBeUndefined();
    // range_end is taken literally: "\0" makes an empty interval here, in etcd too.
    expect(txnReason({ success: [op.del("a", "\0"), op.put("b", "1")] })).toBeUndefined();
  });
});
