import { SeededRng } from "@keyway/raft";
import type { Instance } from "../../src/index.js";

/** A seeded source of floats in [0, 1), so every run draws the same numbers. */
export function seeded(seed: number): () => number {
  const rng = new SeededRng(seed);
  return () => rng.float();
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
