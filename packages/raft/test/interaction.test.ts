/**
 * Data-driven interaction tests: each script under testdata/ drives a small in-memory cluster step
 * by step, and its checked-in output is the expected story. `RAFT_REWRITE=1 pnpm exec vitest run
 * packages/raft` rewrites the outputs for review.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runDataDriven } from "./support/datadriven.js";
import { InteractionEnv } from "./support/interaction-env.js";

const dir = fileURLToPath(new URL("../testdata", import.meta.url));

describe("interaction scripts", () => {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()) {
    it(file, () => {
      const env = new InteractionEnv();
      const { expected, actual } = runDataDriven(join(dir, file), (cmd) => {
        try {
          return env.handle(cmd);
        } catch (err) {
          return `error: ${(err as Error).message}`;
        }
      });
      // In rewrite mode the file now holds `actual`; review it with git diff.
      if (!process.env.RAFT_REWRITE) expect(actual).toBe(expected);
    });
  }
});
