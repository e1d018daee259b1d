import type { mvccpb } from "@keyway/api";
import { afterEach, describe, expect, it } from "vitest";
import { EtcdServerError } from "../../src/errors.js";
import { Harness, op, req } from "./harness.js";

describe("events", () => {
  let h: Harness;
  afterEach(() => h.close());

  it("reads back from the backend exactly what was emitted live", async () => {
    h = Harness.open();
    const live: { revision: number; events: mvccpb.Event[] }[] = [];
    h.sm.onEvents((revision, events) => live.push({ revision, events }));
    h.applyAll(
      req.put("a", "1"),
      req.put("b", "1"),
      req.txn({ success: [op.put("c", "1"), op.del("a"), op.put("d", "x")] }),
      req.del("zz"),
      req.del("b", "\0"),
      req.put("a", "2"),
    );
    expect(live.map((batch) => batch.revision)).toEqual([2, 3, 4, 5, 6]);
    expect(live[2]?.events.map((event) => `${event.type}:${event.kv?.key}`)).toEqual(["0:c", "1:a", "0:d"]);
    expect(h.sm.eventsSince(0)).toEqual(live);
    expect(h.sm.eventsSince(4, 2)).toEqual(live.slice(2, 4));
    expect(h.sm.eventsSince(7)).toEqual([]);
    await h.reopen();
    expect(h.sm.eventsSince(2)).toEqual(live);
  });

  it("refuses a start below the compaction revision", async () => {
    h = Harness.open();
    h.applyAll(req.put("a", "1"), req.put("a", "2"), req.put("a", "3"));
    h.ok(req.compact(3));
    await h.sm.compacted(3);
    expect(() => h.sm.eventsSince(2)).toThrow(new EtcdServerError("compacted"));
    expect(h.sm.eventsSince(3).map((batch) => batch.revision)).toEqual([3, 4]);
  });
});
