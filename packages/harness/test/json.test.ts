import { describe, expect, it } from "vitest";
import { checkHistory, parseHistory, serializeHistory } from "../src/index.js";
import { HistoryBuilder, kv, putEvent } from "./history-builder.js";

describe("saved histories", () => {
  it("round-trip through JSON with their bigints, and judge the same", () => {
    const history = new HistoryBuilder()
      .seq(
        { kind: "leaseGrant", ttlSeconds: 60 },
        { kind: "leaseGrant", revision: 1n, lease: 2n ** 62n + 5n },
      )
      .seq({ kind: "put", key: "ka", value: "1", lease: 2n ** 62n + 5n }, { kind: "put", revision: 2n })
      .seq(
        { kind: "get", key: "ka" },
        { kind: "get", revision: 2n, kv: kv("ka", "1", 2, 2, 1, 2n ** 62n + 5n) },
      )
      .watch(2, [[putEvent(kv("ka", "1", 2, 2, 1, 2n ** 62n + 5n))]])
      .build();
    const text = serializeHistory(history);
    const back = parseHistory(text);
    expect(back).toEqual(history);
    expect(checkHistory(back).ok).toBe(true);
    expect(text).toContain('{"$bigint":"4611686018427387909"}');
  });
});
