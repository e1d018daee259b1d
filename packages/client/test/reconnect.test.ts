import { describe, expect, it } from "vitest";
import { KeywayClient } from "../src/index.js";
import { useTarget } from "./support/target.js";

const HANDSHAKE_TIMEOUT_MS = 1_500;

describe("reconnecting after a partition heals", () => {
  const env = useTarget({ proxy: true });

  it("replaces a channel whose handshake never completes, so the endpoint works again once the network heals", async () => {
    await using client = new KeywayClient({
      endpoints: [env.proxy.url],
      connectTimeoutMs: 500,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    });
    await client.put("reconnect/k", "v1");
    // Open connections are cut; new ones are accepted and never answered, and stay that way
    // after the black hole is lifted (the TCP connection of a frozen handshake).
    env.proxy.setBlackhole(true);
    const started = Date.now();
    while (Date.now() - started < 2 * HANDSHAKE_TIMEOUT_MS + 1_000) {
      await expect(client.get("reconnect/k", { timeoutMs: 400 })).rejects.toThrow();
    }
    env.proxy.setBlackhole(false);
    const healed = Date.now();
    let value: string | undefined;
    while (value === undefined && Date.now() - healed < HANDSHAKE_TIMEOUT_MS + 3_000) {
      value = await client.get("reconnect/k", { timeoutMs: 400 }).then(
        (kv) => kv?.text(),
        () => undefined,
      );
    }
    expect(value).toBe("v1");
  });

  it("refuses a handshake timeout that is not a positive number", () => {
    expect(() => new KeywayClient({ endpoints: [env.proxy.url], handshakeTimeoutMs: 0 })).toThrow(
      /handshakeTimeoutMs must be a positive number/,
    );
  });
});
