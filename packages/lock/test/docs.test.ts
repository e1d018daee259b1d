import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { useTarget } from "./support/env.js";

const env = useTarget();
const dir = mkdtempSync(join(tmpdir(), "keyway-lock-docs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("docs/locks.md", () => {
  it("runs the first example as written", async () => {
    const doc = readFileSync(new URL("../../../docs/locks.md", import.meta.url), "utf8");
    const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const file = join(dir, "quick-start.ts");
    const code = (block as string).replace(
      '"http://127.0.0.1:2379"',
      JSON.stringify(env.target.endpoints[0]),
    );
    writeFileSync(file, `${code}\nexport {};\n`);
    await import(/* @vite-ignore */ file);
    expect((await env.client.get("reports/latest"))?.text()).toBe("done");
    // The lock was released: nothing is left in its queue.
    expect((await env.client.range("jobs/report/", { prefix: true, countOnly: true })).count).toBe(0n);
  });
});
