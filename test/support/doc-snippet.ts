import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The first ```ts block of a document (path from the repository root), with the README's default
 * endpoint `"http://127.0.0.1:2379"` replaced by `endpoint`, so a test runs it as written.
 */
export function firstTsBlock(docPath: string, endpoint: string): string {
  const doc = readFileSync(new URL(`../../${docPath}`, import.meta.url), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1];
  if (block === undefined) throw new Error(`${docPath} has no ts block`);
  return block.replace('"http://127.0.0.1:2379"', JSON.stringify(endpoint));
}

/** Runs `code` as a module of its own (written to a temporary directory, removed afterwards). */
export async function runModule(code: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "keyway-doc-"));
  try {
    const file = join(dir, "snippet.ts");
    writeFileSync(file, `${code}\nexport {};\n`);
    await import(/* @vite-ignore */ file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
