import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { TARGET_NAME, useTarget } from "../../client/test/support/target.js";
import { type Background, background } from "../../lock/test/support/background.js";
import { until } from "../../lock/test/support/env.js";
import { exitOf } from "./support/exit.js";

// Against Keyway, run-all runs exactly as docs/registry.md shows it: it starts `keyway serve`
// itself. Against etcd, it is pointed at the test's etcd member.
const env = TARGET_NAME === "keyway" ? undefined : useTarget();
const runAll = fileURLToPath(new URL("../../../examples/registry/run-all.mjs", import.meta.url));
const TTL_SECONDS = 2;
const started: Background[] = [];
// SIGINT, so run-all stops its children too (stopProcess falls back to SIGKILL after 10 s).
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop("SIGINT")));
});

describe("examples/registry", () => {
  it("run-all: calls spread over every instance; kill -9 of one moves traffic off it within the TTL", async () => {
    const endpoint = env === undefined ? [] : ["--endpoint", env.target.endpoints[0] as string];
    const ttl = ["--ttl", String(TTL_SECONDS), "--kill-after-ms", "500", "--interval-ms", "100"];
    const p = background(process.execPath, [runAll, ...endpoint, ...ttl]);
    started.push(p);
    await p.waitLine((l) => l.startsWith("[run-all] every instance answered"), 30_000);
    for (const id of ["g1", "g2", "g3"]) expect(p.lines).toContain(`[client] greeter <- ${id}`);
    for (const id of ["h1", "h2"]) expect(p.lines).toContain(`[client] hello <- ${id}`);

    await p.waitLine((l) => l.startsWith("[run-all] killed g2 and h2"));
    const killedAt = Date.now();
    const killLine = p.lines.findIndex((l) => l.startsWith("[run-all] killed"));
    // Both leave discovery once their leases expire: within the TTL plus slack for a busy machine.
    await p.waitLine((l) => l === "[client] greeter - g2", (TTL_SECONDS + 4) * 1000);
    await p.waitLine((l) => l === "[client] hello - h2", (TTL_SECONDS + 4) * 1000);
    expect(Date.now() - killedAt).toBeLessThan((TTL_SECONDS + 4) * 1000);
    const removed = p.lines.length;
    await until(
      () => p.lines.slice(removed).filter((l) => l.includes(" <- ")).length >= 10,
      10_000,
      "answers",
    );

    const after = (from: number) => p.lines.slice(from).filter((l) => l.includes(" <- "));
    // gRPC moved off g2 at once (its connection broke); nothing answers from the dead after removal.
    expect(after(killLine).filter((l) => l === "[client] greeter <- g2").length).toBeLessThanOrEqual(1);
    expect(after(removed).filter((l) => l.endsWith("<- g2") || l.endsWith("<- h2"))).toEqual([]);
    expect(new Set(after(removed))).toEqual(
      new Set(["[client] greeter <- g1", "[client] greeter <- g3", "[client] hello <- h1"]),
    );

    // Ctrl-C: the client and the survivors stop; the survivors deregister on their signal.
    p.child.kill("SIGINT");
    expect(await exitOf(p)).toEqual({ code: 0, signal: null });
    expect(p.lines).toContain("[run-all] stopped");
    if (env !== undefined) {
      const left = await env.client.range("keyway/registry/services/", { prefix: true, countOnly: true });
      expect(left.count).toBe(0n);
    }
  });
});
