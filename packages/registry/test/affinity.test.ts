import { describe, expect, it } from "vitest";
import { Balancer } from "../src/balancer.js";
import { type Instance, RegistryError } from "../src/index.js";
import { createInstancePicker } from "../src/pickers.js";
import { Protector } from "../src/protect.js";
import { type ZoneAffinity, ZonePreference } from "../src/zone.js";
import { instance, seeded } from "./support/instances.js";

/** Three instances in zone a, three in b; `a3` fails its calls. */
const SIX = [
  ...["a1", "a2", "a3"].map((id) => instance(id, 1, "a")),
  ...["b1", "b2", "b3"].map((id) => instance(id, 1, "b")),
];

/** A seeded random balancer with zone affinity whose down policy has put `down` aside. */
function zoned(affinity: ZoneAffinity, down: readonly string[] = []) {
  const balancer = new Balancer(
    createInstancePicker("random", seeded(7)),
    { failures: 1, downForMs: 60_000 },
    () => 0,
    new ZonePreference(affinity),
  );
  for (const id of down) {
    // Pick until the down instance comes up, then fail it (the picker is seeded: same every run).
    for (;;) {
      const picked = balancer.pick(SIX.filter((i) => i.id === id));
      if (picked?.instance.id === id) {
        picked.report({ ok: false, latencyMs: 1 });
        break;
      }
    }
  }
  return balancer;
}

/** Which ids `n` picks hit. */
function spread(balancer: Balancer, instances: readonly Instance[], n = 3000): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const picked = balancer.pick(instances);
    if (picked === undefined) throw new Error("nothing picked");
    counts[picked.instance.id] = (counts[picked.instance.id] ?? 0) + 1;
    picked.report({ ok: true, latencyMs: 1 });
  }
  return counts;
}

describe("zone affinity", () => {
  it("picks only healthy instances of the caller's zone while there are enough", () => {
    const counts = spread(zoned({ zone: "a" }, ["a3"]), SIX);
    expect(Object.keys(counts).sort()).toEqual(["a1", "a2"]);
    // Uniform within the zone (seeded; 3000 draws): each within 10% of half.
    for (const id of ["a1", "a2"]) expect(Math.abs((counts[id] as number) - 1500)).toBeLessThan(150);
  });

  it("falls back to every zone below minInstances healthy local instances", () => {
    const counts = spread(zoned({ zone: "a", minInstances: 3 }, ["a3"]), SIX);
    expect(Object.keys(counts).sort()).toEqual(["a1", "a2", "b1", "b2", "b3"]);
  });

  it("falls back when the healthy share of the zone is under minFraction", () => {
    // 2 of 3 healthy = 0.67.
    expect(Object.keys(spread(zoned({ zone: "a", minFraction: 0.7 }, ["a3"]), SIX)).sort()).toHaveLength(5);
    expect(Object.keys(spread(zoned({ zone: "a", minFraction: 0.6 }, ["a3"]), SIX)).sort()).toEqual([
      "a1",
      "a2",
    ]);
  });

  it("uses every zone when the caller's zone has no instance, and refuses bad options", () => {
    expect(Object.keys(spread(zoned({ zone: "c" }), SIX)).sort()).toEqual([
      "a1",
      "a2",
      "a3",
      "b1",
      "b2",
      "b3",
    ]);
    for (const bad of [{}, { zone: "" }, { zone: "a", minInstances: 0 }, { zone: "a", minFraction: 1.5 }])
      expect(() => new ZonePreference(bad as ZoneAffinity)).toThrow(RegistryError);
  });
});

describe("protect threshold", () => {
  /** A protector at threshold 0.5, window 10 s, hold at most 60 s, on a clock the test moves. */
  function protector() {
    const clock = { now: 0 };
    const p = new Protector({ threshold: 0.5, windowMs: 10_000, maxHoldMs: 60_000 }, () => clock.now);
    return { p, clock };
  }

  it("starts when the live count drops under the fraction of the recent peak, ends when it recovers", () => {
    const { p, clock } = protector();
    const steps: (string | undefined)[] = [];
    for (let n = 1; n <= 10; n++) steps.push(p.update(n));
    clock.now = 1_000;
    // A mass expiry: 10 → 5 is still at the threshold, 4 is under it.
    for (const n of [9, 8, 7, 6, 5, 4, 3]) steps.push(p.update(n));
    expect(steps.slice(10)).toEqual([undefined, undefined, undefined, undefined, undefined, "on", undefined]);
    expect(p.active).toBe(true);
    expect(p.peak).toBe(10);
    clock.now = 50_000;
    expect(p.update(4)).toBeUndefined();
    expect(p.update(5)).toBe("off");
    expect(p.active).toBe(false);
  });

  it("does not start on a slow decline spread over more than the window", () => {
    const { p, clock } = protector();
    for (let n = 1; n <= 10; n++) p.update(n);
    for (const n of [8, 6, 4, 3, 2, 1]) {
      clock.now += 11_000;
      expect(p.update(n), `at ${n}`).toBeUndefined();
    }
  });

  it("ends after maxHoldMs although the count did not recover", () => {
    const { p, clock } = protector();
    for (let n = 1; n <= 10; n++) p.update(n);
    expect(p.update(2)).toBe("on");
    clock.now = 59_999;
    expect(p.remainingMs).toBe(1);
    expect(p.update(2)).toBeUndefined();
    clock.now = 60_000;
    expect(p.update(2)).toBe("off");
    // The old peak has left the window, so it does not start again.
    expect(p.update(1)).toBeUndefined();
  });

  it("refuses bad options", () => {
    for (const bad of [
      { threshold: 0 },
      { threshold: 1 },
      { threshold: 0.5, windowMs: 10 },
      { threshold: 0.5, maxHoldMs: 1_000 },
    ])
      expect(() => new Protector(bad)).toThrow(RegistryError);
  });
});
