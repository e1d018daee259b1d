import { etcdserverpb } from "@keyway/api";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkTxnRequest } from "../../src/apply/index.js";
import { EtcdServerError } from "../../src/errors.js";
import { b, Harness, op, plain, req } from "./harness.js";
import { inRange, KvModel, type ModelKv, type ModelRange, type ModelWrite } from "./model.js";

const KEYS = ["a", "b", "c", "d", "e"];
const key = fc.constantFrom(...KEYS);
const range: fc.Arbitrary<ModelRange> = fc.oneof(
  key.map((k) => ({ key: k, end: undefined })),
  fc.tuple(key, key).map(([k, e]) => ({ key: k, end: e })),
  key.map((k) => ({ key: k, end: "" })),
);
const write: fc.Arbitrary<ModelWrite> = fc.oneof(
  fc.record({ put: key, value: fc.constantFrom("x", "y", "z") }),
  range.map((r) => ({ del: r })),
);

type Step =
  | { kind: "write"; write: ModelWrite }
  | { kind: "txn"; compareKey: string; version: number; success: ModelWrite[]; failure: ModelWrite[] }
  | { kind: "compact"; back: number }
  | { kind: "read"; range: ModelRange; back: number; limit: number }
  | { kind: "reopen" };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: write.map((w) => ({ kind: "write" as const, write: w })) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("txn" as const),
      compareKey: key,
      version: fc.integer({ min: 0, max: 2 }),
      success: fc.array(write, { maxLength: 3 }),
      failure: fc.array(write, { maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("compact" as const), back: fc.integer({ min: -1, max: 6 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("read" as const),
      range,
      back: fc.integer({ min: -1, max: 10 }),
      limit: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
);

const rangeEnd = (r: ModelRange) => (r.end === undefined ? "" : r.end === "" ? "\0" : r.end);
const toOp = (w: ModelWrite) => ("put" in w ? op.put(w.put, w.value) : op.del(w.del.key, rangeEnd(w.del)));
const toRequest = (w: ModelWrite) =>
  "put" in w ? req.put(w.put, w.value) : req.del(w.del.key, rangeEnd(w.del));
const reasonOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof EtcdServerError) return error.reason;
    throw error;
  }
};
const strip = (kv: ModelKv) => ({ ...kv, lease: 0 });

/** Applies one step to both and compares what a client would see. */
async function runStep(h: Harness, model: KvModel, s: Step): Promise<void> {
  switch (s.kind) {
    case "write": {
      const response = h.ok(toRequest(s.write));
      model.write([s.write]);
      expect(response.header?.revision).toBe(BigInt(model.currentRevision));
      return;
    }
    case "txn": {
      const txn = {
        compare: [
          {
            key: b(s.compareKey),
            target: 0,
            result: 0,
            targetUnion: { $case: "version" as const, version: BigInt(s.version) },
          },
        ],
        success: s.success.map(toOp),
        failure: s.failure.map(toOp),
      };
      // Write sets etcd would refuse before proposing never reach apply.
      if (reasonOf(() => checkTxnRequest(etcdserverpb.TxnRequest.fromPartial(txn), 128)) !== undefined)
        return;
      const current = model.range({ key: s.compareKey, end: undefined })[0];
      const succeeded = (current?.version ?? 0) === s.version;
      const response = h.ok(req.txn(txn));
      model.write(succeeded ? s.success : s.failure);
      expect(response.succeeded).toBe(succeeded);
      expect(response.header?.revision).toBe(BigInt(model.currentRevision));
      return;
    }
    case "compact": {
      const revision = model.currentRevision - s.back;
      const expected = reasonOf(() => model.compact(revision));
      const [outcome] = h.applyAll(req.compact(revision));
      expect(outcome?.ok ? undefined : outcome?.error.reason).toBe(expected);
      return;
    }
    case "read": {
      const revision = s.back < 0 ? 0 : model.currentRevision - s.back;
      let expected: ModelKv[] = [];
      const expectedError = reasonOf(() => {
        expected = model.range(s.range, revision);
      });
      const read = () =>
        h.range(s.range.key, rangeEnd(s.range), { revision: BigInt(revision), limit: BigInt(s.limit) });
      expect(reasonOf(read)).toBe(expectedError);
      if (expectedError !== undefined) return;
      const response = read();
      const limited = s.limit > 0 ? expected.slice(0, s.limit) : expected;
      expect(response.kvs.map(plain)).toEqual(limited.map(strip));
      expect(response.count).toBe(BigInt(expected.length));
      expect(response.more).toBe(limited.length < expected.length);
      expect(response.header?.revision).toBe(BigInt(model.currentRevision));
      return;
    }
    case "reopen":
      await h.reopen();
      expect(h.sm.currentRevision).toBe(model.currentRevision);
      expect(h.sm.compactRevision).toBe(model.compactRevision);
  }
}

describe("the store against a model of etcd's KV semantics", () => {
  it("agrees on every response over random histories", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
        const h = Harness.open(undefined, { compactionBatchRevisions: 3 });
        const model = new KvModel();
        try {
          for (const s of steps) await runStep(h, model, s);
          // Let physical compaction finish, then everything readable must still match.
          if (model.compactRevision > 0) await h.sm.compacted(model.compactRevision);
          for (
            let revision = Math.max(model.compactRevision, 1);
            revision <= model.currentRevision;
            revision++
          ) {
            const all = { key: "\0", end: "" };
            const expected = model.range(all, revision).filter((kv) => inRange(kv.key, all));
            expect(h.range("\0", "\0", { revision: BigInt(revision) }).kvs.map(plain)).toEqual(
              expected.map(strip),
            );
          }
        } finally {
          await h.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
