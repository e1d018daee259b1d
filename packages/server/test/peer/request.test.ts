import { afterEach, describe, expect, it } from "vitest";
import { connectAll, startMember, type TestMember, waitFor } from "./members.js";

const started: TestMember[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.transport.close()));
});

const text = (value: string) => new TextEncoder().encode(value);
const read = (value: Uint8Array) => new TextDecoder().decode(value);

/** B answers `echo` with the payload and the caller's id, fails `fail`, and never answers `hang`. */
async function pair(): Promise<{ a: TestMember; b: TestMember; hanging: AbortSignal[] }> {
  const hanging: AbortSignal[] = [];
  const a = await startMember(1n);
  const b = await startMember(2n, {
    onRequest: async (from, kind, payload, signal) => {
      if (kind === "echo") return text(`${from}:${read(payload)}`);
      if (kind === "throw-sync") throw new Error("thrown before any await");
      if (kind === "fail") throw new Error("lease not found");
      hanging.push(signal);
      return new Promise(() => {});
    },
  });
  started.push(a, b);
  connectAll([a, b]);
  return { a, b, hanging };
}

describe("PeerTransport requests", () => {
  it("answers requests, many in flight at once, each with its own response", async () => {
    const { a } = await pair();
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        a.transport.request(2n, "echo", text(`n${i}`), { timeoutMs: 5000 }),
      ),
    );
    expect(answers.map(read)).toEqual(Array.from({ length: 100 }, (_, i) => `1:n${i}`));
  });

  it("rejects with the remote error's message", async () => {
    const { a } = await pair();
    await expect(a.transport.request(2n, "fail", text(""), { timeoutMs: 5000 })).rejects.toThrow(
      "lease not found",
    );
    await expect(a.transport.request(2n, "throw-sync", text(""), { timeoutMs: 5000 })).rejects.toThrow(
      "thrown before any await",
    );
  });

  it("times out, aborts on the caller's signal, and rejects pending requests on close", async () => {
    const { a, b, hanging } = await pair();
    await expect(a.transport.request(2n, "hang", text(""), { timeoutMs: 200 })).rejects.toThrow(/timed out/);
    const controller = new AbortController();
    const aborted = a.transport.request(2n, "hang", text(""), { timeoutMs: 5000, signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toThrow(/aborted/);
    const pending = a.transport.request(2n, "hang", text(""), { timeoutMs: 5000 });
    await waitFor("the third request to reach B", () => hanging.length === 3);
    await a.transport.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(a.transport.request(2n, "echo", text(""), { timeoutMs: 100 })).rejects.toThrow(/closed/);
    // B's handlers learn that the connection is gone.
    await waitFor("B's handler signals to abort", () => hanging.every((signal) => signal.aborted));
    await b.transport.close();
  });

  it("rejects at once while the peer is unreachable, and for unknown peers", async () => {
    const { a, b } = await pair();
    await b.transport.close();
    await expect(a.transport.request(2n, "echo", text(""), { timeoutMs: 5000 })).rejects.toThrow();
    await waitFor("A to back off", () => a.unreachable.includes(2n));
    const start = performance.now();
    await expect(a.transport.request(2n, "echo", text(""), { timeoutMs: 5000 })).rejects.toThrow(
      /unreachable/,
    );
    expect(performance.now() - start).toBeLessThan(100);
    await expect(a.transport.request(9n, "echo", text(""), { timeoutMs: 5000 })).rejects.toThrow(
      /unknown peer 9/,
    );
  });

  it("rejects a kind longer than 255 bytes without sending it", async () => {
    const { a } = await pair();
    await expect(a.transport.request(2n, "k".repeat(256), text(""), { timeoutMs: 5000 })).rejects.toThrow(
      /longer than 255 bytes/,
    );
    const answer = await a.transport.request(2n, "echo", text("still"), { timeoutMs: 5000 });
    expect(read(answer)).toBe("1:still");
  });
});
