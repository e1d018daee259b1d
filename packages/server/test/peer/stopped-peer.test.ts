import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startMember, type TestMember, waitFor } from "./members.js";
import { msg } from "./random-message.js";

// The peer runs the built transport (run `pnpm exec tsc -b` first), in a process we can SIGSTOP.
const DIST = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const PEER_SCRIPT = `
import { PeerTransport } from ${JSON.stringify(DIST)};
const quiet = () => {};
const transport = await PeerTransport.start({
  self: 2n, clusterId: 0xc1n, listenUrls: ["http://127.0.0.1:0"], peers: new Map(),
  onMessage: quiet, onUnreachable: quiet, onSnapshotStatus: quiet,
  onRequest: async (from, kind, payload) => payload,
  logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
});
console.log(transport.boundAddresses[0]);
`;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("PeerTransport with a stopped peer process", () => {
  it("notices a SIGSTOPped peer within about 3 s with the default limits", async () => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", PEER_SCRIPT], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    cleanups.push(() => {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const url = String((await lines.next()).value);
    const a: TestMember = await startMember(1n, { peers: new Map([[2n, [url]]]) });
    cleanups.push(() => a.transport.close());
    const echoed = await a.transport.request(2n, "echo", new Uint8Array([7]), { timeoutMs: 5000 });
    expect([...echoed]).toEqual([7]);

    child.kill("SIGSTOP");
    const stoppedAt = performance.now();
    let commit = 0;
    const heartbeats = setInterval(
      () => a.transport.send([msg({ type: "MsgHeartbeat", from: 1n, to: 2n, commit: commit++ })]),
      100,
    );
    cleanups.push(() => clearInterval(heartbeats));
    await waitFor("the stopped peer noticed", () => a.unreachable.includes(2n), 6000);
    const elapsedMs = performance.now() - stoppedAt;
    expect(elapsedMs).toBeGreaterThanOrEqual(2000);
    expect(elapsedMs).toBeLessThan(4500);
    expect(a.logs.some((line) => line.message === "peer stopped answering; dropping the connection")).toBe(
      true,
    );
  });
});
