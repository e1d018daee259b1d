/**
 * The seeded whole-cluster simulator, in small: 20 seeds of 2,000 events (3 and 5 members), every
 * safety check after every event, then the liveness phase. CI runs the full 200 × 10,000 through
 * `pnpm --filter @keyway/raft run sim`.
 */
import { describe, expect, it } from "vitest";
import { runSimulation } from "../src/sim/run.js";

describe("simulator", () => {
  it("20 seeds × 2,000 events: safe, and live once faults stop", () => {
    const failures: string[] = [];
    let leaders = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const r = runSimulation({ seed, members: seed % 2 === 0 ? 3 : 5, events: 2000 });
      if (!r.ok) failures.push(`seed ${seed}: ${r.error}`);
      // Every run must have made progress, and the runs together must have seen many elections.
      expect(r.stats.applied, `seed ${seed} applied`).toBeGreaterThan(20);
      leaders += r.stats.leaders;
    }
    expect(failures).toEqual([]);
    expect(leaders).toBeGreaterThan(60);
  });

  it("a seed replays exactly", () => {
    const a = runSimulation({ seed: 7, members: 5, events: 1500, traceLines: 50 });
    const b = runSimulation({ seed: 7, members: 5, events: 1500, traceLines: 50 });
    expect(b.stats).toEqual(a.stats);
    expect(b.recoveryTicks).toBe(a.recoveryTicks);
  });
});
