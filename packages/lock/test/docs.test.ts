import { describe, expect, it } from "vitest";
import { firstTsBlock, runModule } from "../../../test/support/doc-snippet.js";
import { useTarget } from "./support/env.js";

const env = useTarget();

describe("docs/locks.md", () => {
  it("runs the first example as written", async () => {
    await runModule(firstTsBlock("docs/locks.md", env.target.endpoints[0] as string));
    expect((await env.client.get("reports/latest"))?.text()).toBe("done");
    // The lock was released: nothing is left in its queue.
    expect((await env.client.range("jobs/report/", { prefix: true, countOnly: true })).count).toBe(0n);
  });
});
