import { describe, expect, it } from "vitest";
import { checkHistory, formatReport, type History } from "../src/index.js";
import { HistoryBuilder, kv, putEvent } from "./history-builder.js";

const kinds = (history: History, timeoutMs = 10_000) =>
  checkHistory(history, { timeoutMs }).anomalies.map((a) => a.kind);

describe("linearizability checker on hand-built histories", () => {
  it("accepts a sequential history of every operation kind", () => {
    const h = new HistoryBuilder()
      .seq({ kind: "put", key: "ka", value: "1" }, { kind: "put", revision: 2n })
      .seq({ kind: "get", key: "ka" }, { kind: "get", revision: 2n, kv: kv("ka", "1", 2, 2, 1) })
      .seq(
        { kind: "cas", key: "ka", expectModRevision: 2n, value: "2" },
        { kind: "cas", revision: 3n, succeeded: true, kv: undefined },
      )
      .seq(
        { kind: "cas", key: "ka", expectModRevision: 2n, value: "3" },
        { kind: "cas", revision: 3n, succeeded: false, kv: kv("ka", "2", 2, 3, 2) },
      )
      .seq({ kind: "leaseGrant", ttlSeconds: 60 }, { kind: "leaseGrant", revision: 3n, lease: 5n })
      .seq({ kind: "put", key: "kb", value: "4", lease: 5n }, { kind: "put", revision: 4n })
      .seq(
        { kind: "range", start: "k", end: "l" },
        { kind: "range", revision: 4n, kvs: [kv("ka", "2", 2, 3, 2), kv("kb", "4", 4, 4, 1, 5n)], count: 2n },
      )
      .seq(
        { kind: "range", start: "k", end: "l", limit: 1 },
        { kind: "range", revision: 4n, kvs: [kv("ka", "2", 2, 3, 2)], count: 2n },
      )
      .seq({ kind: "leaseRevoke", lease: 5n }, { kind: "leaseRevoke", revision: 5n })
      .seq({ kind: "get", key: "kb" }, { kind: "get", revision: 5n, kv: undefined })
      .seq({ kind: "delete", key: "ka" }, { kind: "delete", revision: 6n, deleted: 1n })
      .seq({ kind: "delete", key: "ka" }, { kind: "delete", revision: 6n, deleted: 0n })
      .seq({ kind: "put", key: "ka", value: "x" }, { status: "failed", error: "leaseNotFound" })
      .build();
    const report = checkHistory(h);
    expect(report.ok, formatReport(report, h)).toBe(true);
  });

  it("accepts a read concurrent with a write seeing either value", () => {
    const h = new HistoryBuilder()
      .at(1n, 2n, { kind: "put", key: "ka", value: "1" }, { kind: "put", revision: 2n })
      .at(3n, 10n, { kind: "put", key: "ka", value: "2" }, { kind: "put", revision: 3n })
      .at(4n, 5n, { kind: "get", key: "ka" }, { kind: "get", revision: 2n, kv: kv("ka", "1", 2, 2, 1) }, 1)
      .at(6n, 7n, { kind: "get", key: "ka" }, { kind: "get", revision: 3n, kv: kv("ka", "2", 2, 3, 2) }, 2)
      .build();
    expect(kinds(h)).toEqual([]);
  });

  it("flags a stale read, with a small verified window holding the read", () => {
    const h = new HistoryBuilder()
      .seq({ kind: "put", key: "ka", value: "1" }, { kind: "put", revision: 2n })
      .seq({ kind: "put", key: "ka", value: "2" }, { kind: "put", revision: 3n })
      .seq({ kind: "put", key: "kb", value: "3" }, { kind: "put", revision: 4n })
      .seq({ kind: "get", key: "ka" }, { kind: "get", revision: 2n, kv: kv("ka", "1", 2, 2, 1) })
      .seq({ kind: "put", key: "kb", value: "4" }, { kind: "put", revision: 5n })
      .build();
    const report = checkHistory(h);
    expect(report.anomalies.map((a) => a.kind)).toEqual(["nonLinearizable"]);
    const anomaly = report.anomalies[0];
    expect(anomaly?.message).not.toContain("unverified");
    // The read (#3), shown with the write that created the revision it claims (#0).
    expect(anomaly?.window.map((r) => r.id)).toEqual([0, 3]);
    expect(anomaly?.message).toContain("the 1 operations of the window");
    const text = formatReport(report, h);
    expect(text).toContain("seed 7");
    expect(text).toContain("#3 c0");
  });

  it("flags a write whose effect a later read does not show (lost write)", () => {
    const h = new HistoryBuilder()
      .seq({ kind: "put", key: "ka", value: "1" }, { kind: "put", revision: 2n })
      .seq({ kind: "get", key: "ka" }, { kind: "get", revision: 2n, kv: undefined })
      .build();
    expect(kinds(h)).toEqual(["nonLinearizable"]);
  });

  it("flags a revision gap no operation explains, and accepts it when an unknown write may fill it", () => {
    const put2 = { kind: "put", key: "ka", value: "1" } as const;
    const put4 = { kind: "put", key: "kb", value: "3" } as const;
    const gap = new HistoryBuilder()
      .seq(put2, { kind: "put", revision: 2n })
      .seq(put4, { kind: "put", revision: 4n })
      .build();
    expect(kinds(gap)).toEqual(["nonLinearizable"]);
    const filled = new HistoryBuilder()
      .seq(put2, { kind: "put", revision: 2n })
      .seq({ kind: "delete", key: "ka" }, { status: "unknown", error: "timeout" })
      .seq(put4, { kind: "put", revision: 4n })
      .build();
    expect(kinds(filled)).toEqual([]);
  });

  it("lets an unknown write take effect late or never, and uses a read of its value", () => {
    const never = new HistoryBuilder()
      .seq({ kind: "put", key: "ka", value: "u" }, { status: "unknown", error: "timeout" })
      .seq({ kind: "get", key: "ka" }, { kind: "get", revision: 1n, kv: undefined })
      .build();
    expect(kinds(never)).toEqual([]);
    const late = new HistoryBuilder()
      .seq({ kind: "put", key: "ka", value: "u" }, { status: "unknown", error: "timeout" })
      .seq({ kind: "get", key: "ka" }, { kind: "get", revision: 1n, kv: undefined })
      .seq({ kind: "get", key: "ka" }, { kind: "get", revision: 2n, kv: kv("ka", "u", 2, 2, 1) })
      .build();
    const report = checkHistory(late);
    expect(report.ok).toBe(true);
    expect(report.stats.patched).toBe(1);
  });

  it("drops an unknown put and delete nothing showed while watches covered their key throughout", () => {
    const h = new HistoryBuilder()
      .seq({ kind: "put", key: "ka", value: "1" }, { kind: "put", revision: 2n })
      .seq({ kind: "put", key: "ka", value: "u" }, { status: "unknown", error: "timeout" })
      .seq({ kind: "delete", key: "ka" }, { status: "unknown", error: "timeout" })
      .seq({ kind: "put", key: "ka", value: "2" }, { kind: "put", revision: 4n })
      .watch(2, [[putEvent(kv("ka", "1", 2, 2, 1))], [putEvent(kv("ka", "2", 2, 4, 3))]])
      .build();
    const report = checkHistory(h);
    expect(report.stats.unobserved).toBe(2);
    // Revision 3 is then unexplained: whatever took it, the watch did not deliver it.
    expect(report.anomalies.map((a) => a.kind)).toEqual(["nonLinearizable"]);
  });

  it("flags a failed cas that read the wrong value, and a revoke that left its keys", () => {
    const cas = new HistoryBuilder()
      .seq({ kind: "put", key: "ka", value: "1" }, { kind: "put", revision: 2n })
      .seq(
        { kind: "cas", key: "ka", expectModRevision: 9n, value: "2" },
        { kind: "cas", revision: 2n, succeeded: false, kv: kv("ka", "0", 2, 2, 1) },
      )
      .build();
    expect(kinds(cas)).toEqual(["nonLinearizable"]);
    const revoke = new HistoryBuilder()
      .seq({ kind: "leaseGrant", ttlSeconds: 60 }, { kind: "leaseGrant", revision: 1n, lease: 5n })
      .seq({ kind: "put", key: "ka", value: "1", lease: 5n }, { kind: "put", revision: 2n })
      .seq({ kind: "leaseRevoke", lease: 5n }, { kind: "leaseRevoke", revision: 3n })
      .seq({ kind: "get", key: "ka" }, { kind: "get", revision: 3n, kv: kv("ka", "1", 2, 2, 1, 5n) })
      .build();
    expect(kinds(revoke)).toEqual(["nonLinearizable"]);
  });

  it("flags a put acknowledged on a lease that was already revoked", () => {
    const h = new HistoryBuilder()
      .seq({ kind: "leaseGrant", ttlSeconds: 60 }, { kind: "leaseGrant", revision: 1n, lease: 5n })
      .seq({ kind: "leaseRevoke", lease: 5n }, { kind: "leaseRevoke", revision: 1n })
      .seq({ kind: "put", key: "ka", value: "1", lease: 5n }, { kind: "put", revision: 2n })
      .build();
    expect(kinds(h)).toEqual(["nonLinearizable"]);
  });

  it("stays fast with many unknown writes pending for the whole run", () => {
    const h = new HistoryBuilder();
    for (let i = 0; i < 30; i++) {
      h.at(
        0n,
        1n,
        { kind: "put", key: `ku${i}`, value: `u${i}` },
        { status: "unknown", error: "timeout" },
        100 + i,
      );
    }
    for (let i = 0; i < 2_000; i++) {
      const revision = BigInt(i + 2);
      h.seq({ kind: "put", key: "ka", value: `${i}` }, { kind: "put", revision });
      h.seq({ kind: "get", key: "ka" }, { kind: "get", revision, kv: kv("ka", `${i}`, 2, i + 2, i + 1) });
    }
    const started = Date.now();
    const report = checkHistory(h.build(), { timeoutMs: 10_000 });
    expect(report.ok, formatReport(report, h.build())).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("reports a timeout instead of hanging when the search has no time", () => {
    // 22 concurrent unknown puts and a read no subset of them can explain: 2^22 subsets to try.
    const h = new HistoryBuilder();
    for (let i = 0; i < 22; i++) {
      h.at(1n, 2n, { kind: "put", key: `k${i}`, value: `${i}` }, { status: "unknown", error: "timeout" }, i);
    }
    h.at(3n, 4n, { kind: "get", key: "zz" }, { kind: "get", revision: 99n, kv: undefined }, 30);
    const started = Date.now();
    expect(kinds(h.build(), 200)).toEqual(["timeout"]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
