import { mvccpb } from "@keyway/api";
import { describe, expect, it } from "vitest";
import { EventRouter } from "../../src/concurrency/event-router.js";

const put = (key: string) =>
  mvccpb.Event.fromPartial({ type: mvccpb.Event_EventType.PUT, kv: { key: Buffer.from(key) } });

describe("EventRouter", () => {
  it("routes each event to the listeners of its key and of the prefixes it falls under", () => {
    const router = new EventRouter();
    const seen: string[] = [];
    const record = (tag: string) => (event: mvccpb.Event, revision: number) =>
      seen.push(`${tag}:${event.kv?.key.toString()}@${revision}`);
    router.onKey(Buffer.from("a/1"), record("key"));
    router.onPrefix(Buffer.from("a/"), record("prefix"));
    router.onPrefix(Buffer.from("b/"), record("other"));
    router.onEvents(5, [put("a/1"), put("a/2"), put("c")]);
    expect(seen).toEqual(["key:a/1@5", "prefix:a/1@5", "prefix:a/2@5"]);
  });

  it("lets a listener unsubscribe while it is being called, and forgets empty entries", () => {
    const router = new EventRouter();
    let calls = 0;
    const stop = router.onKey(Buffer.from("k"), () => {
      calls++;
      stop();
    });
    router.onEvents(2, [put("k"), put("k")]);
    router.onEvents(3, [put("k")]);
    expect(calls).toBe(1);
    const seen: number[] = [];
    router.onPrefix(Buffer.from("k"), (_, revision) => seen.push(revision))();
    router.onEvents(4, [put("k")]);
    expect(seen).toEqual([]);
  });
});
