import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { expectUnimplemented, pending, startTarget, type Target } from "./support/target.js";

let target: Target;
let dir: string;

beforeAll(async () => {
  target = await startTarget();
  dir = mkdtempSync(join(tmpdir(), "keyway-docs-"));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await target?.close();
});

/** The first TypeScript block of docs/client.md, pointed at the test server. */
function quickStart(): string {
  const doc = readFileSync(new URL("../../../docs/client.md", import.meta.url), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1];
  if (block === undefined) throw new Error("docs/client.md has no ts block");
  return block.replace('"http://127.0.0.1:2379"', JSON.stringify(target.endpoints[0]));
}

describe("docs/client.md", () => {
  it("runs the quick start as written", async () => {
    if (pending("watch")) {
      const { KeywayClient } = await import("../src/index.js");
      return expectUnimplemented(() => new KeywayClient({ endpoints: target.endpoints }).watch("x"));
    }
    const file = join(dir, "quick-start.ts");
    writeFileSync(file, `${quickStart()}\nexport {};\n`);
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      await import(/* @vite-ignore */ file);
      const lines = log.mock.calls.map((args) => args.map(String).join(" "));
      expect(lines[0]).toMatch(/^\[object Object\] \d+$/);
      expect(lines[1]).toMatch(/^put config\/mode \{"fast":false\} \d+$/);
    } finally {
      log.mockRestore();
    }
  });
});
