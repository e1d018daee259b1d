import { describe, expect, it } from "vitest";
import { firstTsBlock, runModule } from "../../../test/support/doc-snippet.js";
import { useTarget } from "../../client/test/support/target.js";

const env = useTarget();

describe("docs/registry.md", () => {
  it("runs the first example as written", async () => {
    const code = firstTsBlock("docs/registry.md", env.target.endpoints[0] as string);
    // Record what the example left in the store just before it deregistered (await using).
    const probe = code.replace(
      'await registration.update({ status: "draining" });',
      'await registration.update({ status: "draining" });\nglobalThis.__registryDocs = (await client.get(registration.key))?.json();',
    );
    expect(probe).not.toBe(code);
    await runModule(probe);
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
