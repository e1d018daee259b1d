import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type Background, background } from "./support/background.js";
import { useTarget } from "./support/env.js";

const env = useTarget();
const example = (path: string) => fileURLToPath(new URL(`../../../examples/${path}`, import.meta.url));
const started: Background[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop("SIGKILL")));
});

/** Runs an example with node against the target (it imports the built packages). */
function run(path: string, ...args: string[]): Background {
  const p = background(process.execPath, [example(path), ...args], {
    KEYWAY_ENDPOINT: env.target.endpoints[0] as string,
  });
  started.push(p);
  return p;
}

const exited = (p: Background) =>
  new Promise<number | null>((resolve) => {
    if (p.child.exitCode !== null) resolve(p.child.exitCode);
    else p.child.once("exit", (code) => resolve(code));
  });

describe("examples", () => {
  it("examples/lock: replicas run the job one at a time; killing the holder lets the next take over", async () => {
    const a = run("lock/job.mjs", "--replica", "a", "--runs", "1", "--work-ms", "200", "--ttl", "2");
    const b = run("lock/job.mjs", "--replica", "b", "--runs", "1", "--work-ms", "200", "--ttl", "2");
    expect(await exited(a)).toBe(0);
    expect(await exited(b)).toBe(0);
    for (const [p, name] of [
      [a, "a"],
      [b, "b"],
    ] as const) {
      expect(p.lines.some((l) => l.startsWith(`[${name}] running`))).toBe(true);
      expect(p.lines).toContain(`[${name}] finished`);
    }

    const c = run("lock/job.mjs", "--replica", "c", "--work-ms", "60000", "--ttl", "2");
    await c.waitLine((l) => l.startsWith("[c] running"));
    const d = run("lock/job.mjs", "--replica", "d", "--work-ms", "60000", "--ttl", "2");
    await d.waitLine((l) => l === "[d] waiting for the lock");
    await c.stop("SIGKILL");
    // d takes over once c's lease (2 s) has expired.
    await d.waitLine((l) => l.startsWith("[d] running"), 10_000);
  });

  it("examples/election: one leader at a time, handed over on resign; observers follow it", async () => {
    const observer = run("election/worker.mjs", "--observe", "--replica", "obs");
    await observer.waitLine((l) => l === "[obs] observing");
    const a = run("election/worker.mjs", "--replica", "a", "--lead-ms", "700", "--ttl", "2");
    await a.waitLine((l) => l.startsWith("[a] elected"));
    const b = run("election/worker.mjs", "--replica", "b", "--lead-ms", "700", "--ttl", "2");
    await b.waitLine((l) => l === "[b] campaigning");
    expect(await exited(a)).toBe(0);
    await b.waitLine((l) => l.startsWith("[b] elected"));
    expect(await exited(b)).toBe(0);
    await observer.waitLine((l) => l === "[obs] leader is b");
    const leaders = observer.lines.filter((l) => l.startsWith("[obs] leader is"));
    expect(leaders).toEqual(["[obs] leader is a", "[obs] leader is b"]);
    await observer.stop("SIGINT");
    expect(observer.lines).toContain("[obs] exit");
  });
});
