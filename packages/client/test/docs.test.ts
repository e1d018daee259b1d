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

/** The first TypeScript block of a document (path from the repository root), pointed at the test server. */
function firstTsBlock(docPath: string): string {
  const doc = readFileSync(new URL(`../../../${docPath}`, import.meta.url), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1];
  if (block === undefined) throw new Error(`${docPath} has no ts block`);
  return block.replace('"http://127.0.0.1:2379"', JSON.stringify(target.endpoints[0]));
}

/** Runs a snippet as a module and returns what it printed with console.log, one string per call. */
async function runSnippet(name: string, code: string): Promise<string[]> {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, `${code}\nexport {};\n`);
  const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    await import(/* @vite-ignore */ file);
    return log.mock.calls.map((args) => args.map(String).join(" "));
  } finally {
    log.mockRestore();
  }
}

describe("docs/client.md", () => {
  it("runs the quick start as written", async () => {
    if (pending("watch")) {
      const { KeywayClient } = await import("../src/index.js");
      return expectUnimplemented(() => new KeywayClient({ endpoints: target.endpoints }).watch("x"));
    }
    const lines = await runSnippet("quick-start", firstTsBlock("docs/client.md"));
    expect(lines[0]).toMatch(/^\[object Object\] \d+$/);
    expect(lines[1]).toMatch(/^put config\/mode \{"fast":false\} \d+$/);
  });
});

describe("README.md", () => {
  it("runs the client example as written", async () => {
    const lines = await runSnippet("readme", firstTsBlock("README.md"));
    expect(lines).toEqual(["fast"]);
  });
});
