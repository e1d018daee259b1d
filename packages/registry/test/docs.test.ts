import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { useTarget } from "../../client/test/support/target.js";

const env = useTarget();
const dir = mkdtempSync(join(tmpdir(), "keyway-registry-docs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("docs/registry.md", () => {
  it("runs the first example as written", async () => {
    const doc = readFileSync(new URL("../../../docs/registry.md", import.meta.url), "utf8");
    const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const file = join(dir, "quick-start.ts");
    const code = (block as string).replace(
      '"http://127.0.0.1:2379"',
      JSON.stringify(env.target.endpoints[0]),
    );
    // Record what the example left in the store just before it deregistered (await using).
    const probe = code.replace(
      'await registration.update({ status: "draining" });',
      'await registration.update({ status: "draining" });\nglobalThis.__registryDocs = (await client.get(registration.key))?.json();',
    );
    expect(probe).not.toBe(code);
    writeFileSync(file, `${probe}\nexport {};\n`);
    await import(/* @vite-ignore */ file);
    expect((globalThis as { __registryDocs?: unknown }).__registryDocs).toMatchObject({
      id: "orders-1",
      status: "draining",
      zone: "eu-1",
    });
    // Deregistered on the way out.
    const left = await env.client.range("keyway/registry/services/orders/", {
      prefix: true,
      countOnly: true,
    });
    expect(left.count).toBe(0n);
  });
});
