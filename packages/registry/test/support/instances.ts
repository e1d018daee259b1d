import type { Instance } from "../../src/index.js";

/** mulberry32: a small seeded PRNG, so every run draws the same numbers. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An `up` instance of service `s` for picker tests. */
export function instance(id: string, weight = 1, zone?: string): Instance {
  return {
    service: "s",
    id,
    address: `${id}:1`,
    ports: {},
    metadata: {},
    weight,
    zone,
    version: undefined,
    status: "up",
    registeredAt: "",
  };
}
