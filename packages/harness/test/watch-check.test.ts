import { describe, expect, it } from "vitest";
import { checkAcknowledgedWrites, checkHistory, formatReport, type WatchEventRecord } from "../src/index.js";
import { deleteEvent, HistoryBuilder, kv, putEvent } from "./history-builder.js";

// The writes: rev 2 put ka (lease 5), rev 3 put kb (lease 5), rev 4 revoke 5 deletes both, rev 5 put ka.
const ka2 = kv("ka", "1", 2, 2, 1, 5n);
const kb3 = kv("kb", "2", 3, 3, 1, 5n);
const e2 = putEvent(ka2);
const e3 = putEvent(kb3);
const d4a = deleteEvent("ka", 4, ka2);
const d4b = deleteEvent("kb", 4, kb3);
const e5 = putEvent(kv("ka", "3", 5, 5, 1));

function writes(): HistoryBuilder {
  return new HistoryBuilder()
    .seq({ kind: "leaseGrant", ttlSeconds: 60 }, { kind: "leaseGrant", revision: 1n, lease: 5n })
    .seq({ kind: "put", key: "ka", value: "1", lease: 5n }, { kind: "put", revision: 2n })
    .seq({ kind: "put", key: "kb", value: "2", lease: 5n }, { kind: "put", revision: 3n })
    .seq({ kind: "leaseRevoke", lease: 5n }, { kind: "leaseRevoke", revision: 4n })
    .seq({ kind: "put", key: "ka", value: "3" }, { kind: "put", revision: 5n });
}

function kindsOf(start: number, responses: Parameters<HistoryBuilder["watch"]>[1]): string[] {
  const report = checkHistory(writes().watch(start, responses).build());
  return [...new Set(report.anomalies.map((a) => a.kind))].sort();
}

describe("watch validators on hand-built histories", () => {
  it("accept a complete, ordered, atomic watch with correct prev_kv, and one resumed mid-way", () => {
    const h = writes()
      .watch(2, [[e2], [e3], [d4a, d4b], [e5], { progress: 5 }])
      .watch(4, [[d4a, d4b], [e5]])
      .build();
    const report = checkHistory(h);
    expect(report.ok, formatReport(report, h)).toBe(true);
    expect(report.stats.watchEvents).toBe(8);
  });

  it("flag a gap (reliable)", () => {
    expect(kindsOf(2, [[e2], [d4a, d4b], [e5]])).toEqual(["watchGap"]);
  });

  it("flag a dropped last event once a progress notification vouches for it", () => {
    expect(kindsOf(2, [[e2], [e3], [d4a, d4b]])).toEqual([]);
    expect(kindsOf(2, [[e2], [e3], [d4a, d4b], { progress: 5 }])).toEqual(["watchGap"]);
  });

  it("flag a duplicate (unique)", () => {
    expect(kindsOf(2, [[e2], [e3, e3], [d4a, d4b], [e5]])).toEqual(["watchDuplicate"]);
  });

  it("flag a revision split over two responses (atomic)", () => {
    expect(kindsOf(2, [[e2], [e3, d4a], [d4b], [e5]])).toEqual(["watchNotAtomic"]);
  });

  it("flag events out of order (ordered)", () => {
    expect(kindsOf(2, [[e3], [e2], [d4a, d4b], [e5]])).toEqual(["watchUnordered"]);
  });

  it("flag an event before the watch's start revision (resumable)", () => {
    expect(kindsOf(3, [[e2], [e3], [d4a, d4b], [e5]])).toEqual(["watchResumable"]);
  });

  it("flag a wrong prev_kv, and an event no write made (consistent)", () => {
    const wrongPrev: WatchEventRecord = { ...e5, prevKv: ka2 };
    expect(kindsOf(2, [[e2], [e3], [d4a, d4b], [wrongPrev]])).toEqual(["watchPrevKv"]);
    const forged = putEvent(kv("ka", "X", 5, 5, 1));
    expect(kindsOf(2, [[e2], [e3], [d4a, d4b], [forged]])).toEqual(["watchInconsistent"]);
    const beyond = putEvent(kv("ka", "Y", 5, 6, 2));
    expect(kindsOf(2, [[e2], [e3], [d4a, d4b], [e5], [beyond]])).toEqual(["watchInconsistent"]);
  });

  it("flag a progress notification that goes back (bookmarkable)", () => {
    expect(kindsOf(2, [[e2], { progress: 3 }, [e3], [d4a, d4b], [e5]])).toEqual(["watchBookmark"]);
    expect(kindsOf(2, [[e2], [e3], { progress: 2 }, [d4a, d4b], [e5]])).toEqual(["watchBookmark"]);
  });
});

describe("acknowledged writes after the faults", () => {
  const h = new HistoryBuilder()
    .seq({ kind: "put", key: "ka", value: "1" }, { kind: "put", revision: 2n })
    .seq({ kind: "put", key: "kb", value: "2" }, { kind: "put", revision: 3n })
    .seq({ kind: "delete", key: "kb" }, { kind: "delete", revision: 4n, deleted: 1n })
    .seq({ kind: "put", key: "kc", value: "3" }, { kind: "put", revision: 5n })
    .seq({ kind: "delete", key: "kc" }, { status: "unknown", error: "timeout" })
    .build();

  it("pass when every acknowledged write is visible (or may have been deleted by an unknown call)", () => {
    expect(checkAcknowledgedWrites(h, [kv("ka", "1", 2, 2, 1)])).toEqual([]);
  });

  it("flag a lost put and a lost delete", () => {
    const lost = checkAcknowledgedWrites(h, [kv("kb", "2", 3, 3, 1)]);
    expect(lost.map((a) => `${a.kind}:${a.window[0]?.id}`).sort()).toEqual(["lostWrite:0", "lostWrite:2"]);
  });
});
