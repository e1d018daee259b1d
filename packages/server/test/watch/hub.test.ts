import { WatchCancelReason } from "@keyway/api";
import { afterEach, describe, expect, it } from "vitest";
import { WatchLimitError } from "../../src/watch/index.js";
import { Harness, op, req } from "../apply/harness.js";
import { cancel, create, hubOver, progress, settle, show, TestSink } from "./support.js";

const b = (text: string) => Buffer.from(text, "latin1");

describe("WatchHub", () => {
  let h: Harness;
  afterEach(() => h.close());

  it("answers creates in order and delivers one response per watcher and revision batch", async () => {
    h = Harness.open();
    const hub = hubOver(h.sm);
    const sink = new TestSink();
    const session = hub.open(sink);
    session.handle(create({ key: b("a") }));
    session.handle(create({ key: b("a"), rangeEnd: b("c"), prevKv: true }));
    session.handle(create({ key: b("a"), rangeEnd: b("\x00"), filters: [0] }));
    expect(sink.responses.map((r) => [r.watchId, r.created, r.header?.revision])).toEqual([
      [0n, true, 1n],
      [1n, true, 1n],
      [2n, true, 1n],
    ]);
    h.applyAll(req.put("a", "1"), req.txn({ success: [op.put("b", "1"), op.put("z", "1")] }), req.del("a"));
    await settle();
    const events = sink.responses.slice(3);
    // One fan-out: each watcher got everything it matched in one response.
    expect(events.map((r) => [r.watchId, r.events.map(show)])).toEqual([
      [0n, ["PUT a@2", "DELETE a@4"]],
      [1n, ["PUT a@2", "PUT b@3", "DELETE a@4"]],
      [2n, ["DELETE a@4"]],
    ]);
    expect(events[1]?.events[2]?.prevKv?.value.toString()).toBe("1");
    expect(events[1]?.events[0]?.prevKv).toBeUndefined();
    expect(events.every((r) => r.header?.revision === 4n)).toBe(true);
    hub.close();
  });

  it("replays history from start_revision, then joins the live fan-out without repeats", async () => {
    h = Harness.open();
    const hub = hubOver(h.sm);
    h.applyAll(req.put("k", "1"), req.put("k", "2"), req.put("other", "x"));
    const sink = new TestSink();
    const session = hub.open(sink);
    session.handle(create({ key: b("k"), startRevision: 2n }));
    h.applyAll(req.put("k", "3")); // applied before the catch-up ran: must come exactly once
    await settle();
    h.applyAll(req.put("k", "4"));
    await settle();
    expect(sink.eventsOf(0n).map(show)).toEqual(["PUT k@2", "PUT k@3", "PUT k@5", "PUT k@6"]);
    hub.close();
  });

  it("waits for a future start revision", async () => {
    h = Harness.open();
    const hub = hubOver(h.sm);
    const sink = new TestSink();
    hub.open(sink).handle(create({ key: b("k"), startRevision: 4n }));
    h.applyAll(req.put("k", "1"), req.put("k", "2"), req.put("k", "3"), req.put("k", "4"));
    await settle();
    expect(sink.eventsOf(0n).map(show)).toEqual(["PUT k@4", "PUT k@5"]);
    hub.close();
  });

  it("cancels a start below the compaction revision with compact_revision after the created response", async () => {
    h = Harness.open();
    const hub = hubOver(h.sm);
    h.applyAll(req.put("k", "1"), req.put("k", "2"), req.put("k", "3"), req.compact(3));
    const sink = new TestSink();
    const session = hub.open(sink);
    session.handle(create({ key: b("k"), startRevision: 2n }));
    session.handle(create({ key: b("k"), startRevision: 3n }));
    await settle();
    const [created0, created1, compacted, replay] = sink.responses;
    expect([created0?.created, created1?.created]).toEqual([true, true]);
    expect(compacted).toMatchObject({ watchId: 0n, canceled: true, compactRevision: 3n, created: false });
    expect(compacted?.header?.revision).toBe(0n);
    expect(replay?.watchId).toBe(1n);
    expect(replay?.events.map(show)).toEqual(["PUT k@3", "PUT k@4"]);
    // The compacted watcher keeps its id until cancelled, as in etcd.
    session.handle(cancel(0n));
    expect(sink.responses.at(-1)).toMatchObject({ watchId: 0n, canceled: true });
    hub.close();
  });

  it("refuses an empty range and a duplicate watch id with created+canceled, watch_id -1", () => {
    h = Harness.open();
    const hub = hubOver(h.sm);
    const sink = new TestSink();
    const session = hub.open(sink);
    session.handle(create({ key: b("b"), rangeEnd: b("a") }));
    session.handle(create({ key: b("a"), watchId: 5n }));
    session.handle(create({ key: b("a"), watchId: 5n }));
    session.handle(create({ key: b("a") }));
    expect(sink.responses.map((r) => [r.watchId, r.created, r.canceled, r.cancelReason])).toEqual([
      [-1n, true, true, WatchCancelReason.emptyRange],
      [5n, true, false, ""],
      [-1n, true, true, WatchCancelReason.duplicateWatchId],
      [0n, true, false, ""],
    ]);
    session.handle(cancel(42n)); // unknown: ignored
    session.handle(cancel(5n));
    expect(sink.responses.slice(4).map((r) => [r.watchId, r.canceled])).toEqual([[5n, true]]);
    hub.close();
  });

  it("moves the watchers of a backed-up stream to unsynced and catches them up from the backend on drain", async () => {
    h = Harness.open();
    const hub = hubOver(h.sm, { streamBufferBytes: 300 });
    const slow = new TestSink();
    const fast = new TestSink();
    const slowSession = hub.open(slow);
    slowSession.handle(create({ key: b("k") }));
    hub.open(fast).handle(create({ key: b("k") }));
    slow.pause();
    for (let i = 0; i < 30; i++) {
      h.applyAll(req.put("k", `v${i}`));
      await settle(1);
    }
    await settle();
    expect(fast.eventsOf(0n)).toHaveLength(30);
    const before = slow.eventsOf(0n).length;
    expect(before).toBeLessThan(30);
    expect(slowSession.unsynced.size).toBe(1);
    slow.resume();
    await settle();
    expect(slowSession.unsynced.size).toBe(0);
    const revisions = slow.eventsOf(0n).map((e) => Number(e.kv?.modRevision));
    expect(revisions).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
    hub.close();
  });

  it("cuts off a stream that stays backed up, and enforces the stream and watcher limits", async () => {
    h = Harness.open();
    const hub = hubOver(h.sm, {
      streamBufferBytes: 100,
      stalledStreamTimeoutMs: 50,
      maxStreams: 2,
      maxWatchersPerStream: 2,
    });
    const stuck = new TestSink();
    const session = hub.open(stuck);
    session.handle(create({ key: b("k") }));
    session.handle(create({ key: b("j") }));
    session.handle(create({ key: b("l") }));
    expect(stuck.responses.at(-1)?.cancelReason).toBe("keyway: too many watchers on one stream (limit 2)");
    hub.open(new TestSink());
    expect(() => hub.open(new TestSink())).toThrow(WatchLimitError);
    stuck.pause();
    h.applyAll(req.put("k", "x".repeat(200)));
    await settle();
    expect(stuck.failure).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(stuck.failure).toEqual({
      code: 8,
      message: "keyway: watch stream cut off: it was not read for 50 ms",
    });
    expect(hub.streamCount).toBe(1);
    hub.close();
  });

  it("answers progress requests at the current revision once every watcher is caught up", async () => {
    h = Harness.open();
    const hub = hubOver(h.sm);
    h.applyAll(req.put("k", "1"), req.put("k", "2"));
    const sink = new TestSink();
    const session = hub.open(sink);
    session.handle(create({ key: b("k"), startRevision: 1n }));
    session.handle(progress);
    expect(sink.responses).toHaveLength(1);
    await settle();
    expect(sink.responses.map((r) => [r.watchId, r.events.length, r.header?.revision])).toEqual([
      [0n, 0, 3n],
      [0n, 2, 3n],
      [-1n, 0, 3n],
    ]);
    hub.close();
  });

  it("sends periodic progress only to quiet, synced watchers that asked for it", async () => {
    h = Harness.open();
    const hub = hubOver(h.sm, { progressNotifyIntervalMs: 40 });
    const sink = new TestSink();
    const session = hub.open(sink);
    session.handle(create({ key: b("k"), progressNotify: true }));
    session.handle(create({ key: b("j") }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const progressOf = (id: bigint) =>
      sink.responses.filter((r) => r.watchId === id && !r.created && r.events.length === 0);
    expect(progressOf(0n).length).toBeGreaterThan(0);
    expect(progressOf(1n)).toHaveLength(0);
    hub.close();
  });
});
