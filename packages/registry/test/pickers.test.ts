import { describe, expect, it } from "vitest";
import { Balancer } from "../src/balancer.js";
import { type Instance, type PickerName, RegistryError } from "../src/index.js";
import { createInstancePicker } from "../src/pickers.js";
import { instance, seeded } from "./support/instances.js";

const FOUR = ["a", "b", "c", "d"].map((id) => instance(id));

/** Picks `n` times (reporting each call at once as a success of `latencyMs(id)`), counting ids. */
function run(balancer: Balancer, instances: readonly Instance[], n: number, latencyMs = (_id: string) => 1) {
  const counts: Record<string, number> = {};
  const order: string[] = [];
  for (let i = 0; i < n; i++) {
    const picked = balancer.pick(instances);
    if (picked === undefined) throw new Error("nothing picked");
    const id = picked.instance.id;
    counts[id] = (counts[id] ?? 0) + 1;
    order.push(id);
    picked.report({ ok: true, latencyMs: latencyMs(id) });
  }
  return { counts, order };
}

const balancerOf = (name: PickerName, seed = 42, clock?: () => number) =>
  new Balancer(createInstancePicker(name, seeded(seed)), { failures: 3, downForMs: 1000 }, clock);

/** Pearson's chi-square statistic of `counts` against equal shares. */
function chiSquare(counts: Record<string, number>, ids: readonly string[], n: number): number {
  const expected = n / ids.length;
  return ids.reduce((sum, id) => sum + ((counts[id] ?? 0) - expected) ** 2 / expected, 0);
}

describe("pickers", () => {
  it("round-robin cycles in order", () => {
    const { order } = run(balancerOf("round-robin"), FOUR, 8);
    expect(order).toEqual(["a", "b", "c", "d", "a", "b", "c", "d"]);
  });

  it("random is uniform (chi-square, 3 degrees of freedom, p > 0.001)", () => {
    const n = 20_000;
    const { counts } = run(balancerOf("random", 7), FOUR, n);
    expect(chiSquare(counts, ["a", "b", "c", "d"], n)).toBeLessThan(16.27);
    // Another seed gives another sequence: the picker really uses the source.
    expect(run(balancerOf("random", 8), FOUR, 20).order).not.toEqual(
      run(balancerOf("random", 7), FOUR, 20).order,
    );
  });

  it("smooth weighted round-robin follows the weights and spreads the heavy instance's turns", () => {
    const weighted = [instance("a", 5), instance("b", 1), instance("c", 1), instance("z", 0)];
    const { order, counts } = run(balancerOf("weighted-round-robin"), weighted, 700);
    expect(order.slice(0, 7)).toEqual(["a", "a", "b", "a", "c", "a", "a"]);
    expect(counts).toEqual({ a: 500, b: 100, c: 100 });
  });

  it("smooth weighted round-robin keeps its scores when the list changes", () => {
    const weighted = [instance("a", 5), instance("b", 1), instance("c", 1)];
    const expected = run(balancerOf("weighted-round-robin"), weighted, 14).order;
    // A fresh (equal) list at every pick moves the scores through the by-id map each time.
    const balancer = balancerOf("weighted-round-robin");
    const order = Array.from({ length: 14 }, () => {
      const picked = balancer.pick([...weighted]);
      picked?.report({ ok: true });
      return picked?.instance.id;
    });
    expect(order).toEqual(expected);
    expect(expected.slice(0, 7)).toEqual(["a", "a", "b", "a", "c", "a", "a"]);
  });

  it("least-outstanding sends each call to the instance with the fewest calls in flight", () => {
    const balancer = balancerOf("least-outstanding");
    const held = Array.from({ length: 8 }, () => balancer.pick(FOUR));
    const counts: Record<string, number> = {};
    for (const p of held) counts[p?.instance.id ?? "?"] = (counts[p?.instance.id ?? "?"] ?? 0) + 1;
    expect(counts).toEqual({ a: 2, b: 2, c: 2, d: 2 });
    // Finishing b's calls makes b the only least-loaded one.
    for (const p of held) if (p?.instance.id === "b") p.report({ ok: true });
    expect(balancer.pick(FOUR)?.instance.id).toBe("b");
    expect(balancer.pick(FOUR)?.instance.id).toBe("b");
  });

  it("p2c-ewma moves load away from a slow instance", () => {
    const n = 10_000;
    const { counts } = run(balancerOf("p2c-ewma", 3), FOUR, n, (id) => (id === "d" ? 50 : 5));
    expect(counts.d ?? 0).toBeLessThan(n * 0.01);
    for (const id of ["a", "b", "c"]) expect(counts[id]).toBeGreaterThan(n * 0.28);
  });

  it("down-instance policy: N failures skip an instance for T, then it is probed one call at a time", () => {
    let now = 0;
    const balancer = balancerOf("round-robin", 1, () => now);
    const two = FOUR.slice(0, 2);
    for (let i = 0; i < 3; i++) {
      const p = balancer.pick([two[0] as Instance]);
      p?.report({ ok: false });
    }
    expect(run(balancer, two, 10).counts).toEqual({ b: 10 });
    now = 1000;
    const probe = balancer.pick([two[0] as Instance]);
    expect(probe?.instance.id).toBe("a");
    // While the probe is in flight, a is not picked again.
    expect(run(balancer, two, 4).counts).toEqual({ b: 4 });
    probe?.report({ ok: false });
    now = 1500;
    expect(balancer.pick([two[0] as Instance])).toBeUndefined();
    now = 2000;
    balancer.pick([two[0] as Instance])?.report({ ok: true });
    expect(run(balancer, two, 4).counts).toEqual({ a: 2, b: 2 });
  });

  it("refuses an unknown picker name and a bad down policy", () => {
    expect(() => createInstancePicker("fastest" as PickerName)).toThrow(RegistryError);
    const picker = createInstancePicker("random");
    expect(() => new Balancer(picker, { failures: 0 })).toThrow(RegistryError);
    expect(() => new Balancer(picker, { downForMs: -1 })).toThrow(RegistryError);
  });
});
