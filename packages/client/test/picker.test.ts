import { describe, expect, it } from "vitest";
import { createPicker, LeastConnectionPicker, type Pickable, RoundRobinPicker } from "../src/index.js";

// Pickers are pure and shared with the registry, so they are checked here without a server too.
const items = (...inflight: number[]): Pickable[] => inflight.map((n) => ({ inflight: n }));

describe("pickers", () => {
  it("round-robin cycles through the candidates in order", () => {
    const picker = new RoundRobinPicker<string>();
    expect(Array.from({ length: 7 }, () => picker.pick(["a", "b", "c"]))).toEqual([
      "a",
      "b",
      "c",
      "a",
      "b",
      "c",
      "a",
    ]);
    expect(picker.pick([])).toBeUndefined();
  });

  it("least-connection picks the fewest in flight and rotates among ties", () => {
    const picker = new LeastConnectionPicker<Pickable>();
    const busy = items(5, 1, 3);
    expect(picker.pick(busy)).toBe(busy[1]);
    const idle = items(0, 0, 0);
    const picks = new Set(Array.from({ length: 3 }, () => picker.pick(idle)));
    expect(picks.size).toBe(3);
    expect(createPicker("least-connection")).toBeInstanceOf(LeastConnectionPicker);
    expect(createPicker("round-robin")).toBeInstanceOf(RoundRobinPicker);
  });
});
