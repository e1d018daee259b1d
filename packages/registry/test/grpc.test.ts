import { type Client, status } from "@grpc/grpc-js";
import { KeywayClient } from "@keyway/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../test/support/ports.js";
import { useTarget } from "../../client/test/support/target.js";
import { until } from "../../lock/test/support/env.js";
import { type KeywayResolverHandle, keywayChannelOptions, useKeywayResolver } from "../src/grpc/index.js";
import { type InstanceInput, type PickerName, type Registration, registry } from "../src/index.js";
import { type EchoServer, echoClient, startEchoServer, who } from "./support/echo-service.js";

const env = useTarget();
let resolver: KeywayResolverHandle;
const cleanup: (() => Promise<unknown> | unknown)[] = [];

beforeAll(() => {
  resolver = useKeywayResolver(registry(env.client));
});
afterAll(() => resolver.close());
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Starts echo servers `ids` and registers each under `service` (closed after the test). */
async function serve(
  service: string,
  ids: readonly string[],
  input: (server: EchoServer) => Partial<InstanceInput> = () => ({}),
): Promise<{ servers: EchoServer[]; registrations: Registration[] }> {
  const servers = await Promise.all(ids.map((id) => startEchoServer(id)));
  cleanup.push(() => Promise.all(servers.map((s) => s.close())));
  const registrations = await Promise.all(
    servers.map((server) =>
      registry(env.client).register({
        service,
        instance: { id: server.id, address: "127.0.0.1", ports: { grpc: server.port }, ...input(server) },
      }),
    ),
  );
  cleanup.push(() => Promise.all(registrations.map((r) => r.close())));
  return { servers, registrations };
}

function client(target: string, options: Record<string, unknown> = {}): Client {
  const c = echoClient(target, options);
  cleanup.push(() => c.close());
  return c;
}

/**
 * Answering ids of `count` calls, counted per id, made `parallel` at a time (picks are taken one
 * by one in the picker either way, so round-robin shares stay exact; latency pickers want 1).
 */
async function tally(c: Client, count: number, parallel = 1): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let n = 0; n < count; n += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - n) }, () => who(c, { waitForReady: true }));
    for (const id of await Promise.all(batch)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Calls until every id in `ids` has answered (all subchannels connected). */
async function warmUp(c: Client, ids: readonly string[]): Promise<void> {
  const seen = new Set<string>();
  await until(
    async () => {
      seen.add(await who(c, { waitForReady: true }));
      return ids.every((id) => seen.has(id));
    },
    10_000,
    `answers from ${ids.join(", ")}`,
  );
}

/** Calls until `count` calls in a row come from ids other than `gone`. */
async function movedOff(c: Client, gone: string, count = 30): Promise<void> {
  let inRow = 0;
  await until(
    async () => {
      inRow = (await who(c, { waitForReady: true })) === gone ? 0 : inRow + 1;
      return inRow >= count;
    },
    10_000,
    `traffic off ${gone}`,
  );
}

describe("grpc-js resolver keyway:/// and the keyway policy", () => {
  it("spreads calls over the registered servers, follows deregistration, draining and new servers", async () => {
    const { servers, registrations } = await serve("echo", ["a", "b", "c"]);
    const c = client("keyway:///echo");
    await warmUp(c, ["a", "b", "c"]);
    // Round-robin (the default) over three ready servers: exactly a third each.
    expect(Object.fromEntries(await tally(c, 300, 10))).toEqual({ a: 100, b: 100, c: 100 });

    // Deregistered (its server still runs): no more calls, only because the resolver dropped it.
    await (registrations[0] as Registration).close();
    await movedOff(c, "a");
    const calls = (servers[0] as EchoServer).calls;
    expect([...(await tally(c, 60, 10)).keys()].sort()).toEqual(["b", "c"]);
    expect((servers[0] as EchoServer).calls).toBe(calls);

    // Draining: out of new calls while still registered.
    await (registrations[1] as Registration).update({ status: "draining" });
    await movedOff(c, "b");
    expect([...(await tally(c, 30, 10)).keys()]).toEqual(["c"]);

    // A new server gets traffic once registered.
    await serve("echo", ["d"]);
    await warmUp(c, ["d"]);
    expect(Object.fromEntries(await tally(c, 40, 10))).toEqual({ c: 20, d: 20 });
  });

  it("honours weights with smooth weighted round-robin", async () => {
    await serve("weighted", ["h", "l"], (s) => ({ weight: s.id === "h" ? 3 : 1 }));
    const c = client("keyway:///weighted", keywayChannelOptions({ picker: "weighted-round-robin" }));
    await warmUp(c, ["h", "l"]);
    const counts = await tally(c, 400, 10);
    expect(Math.abs((counts.get("h") ?? 0) - 300)).toBeLessThanOrEqual(3);
    expect((counts.get("h") ?? 0) + (counts.get("l") ?? 0)).toBe(400);
  });

  it.each<PickerName>(["round-robin", "random", "least-outstanding", "weighted-round-robin", "p2c-ewma"])(
    "balances with picker %s",
    async (picker) => {
      await serve(`each-${picker}`, ["x", "y", "z"]);
      const c = client(`keyway:///each-${picker}`, keywayChannelOptions({ picker }));
      await warmUp(c, ["x", "y", "z"]);
      const counts = await tally(c, 60);
      expect([...counts.values()].reduce((a, b) => a + b)).toBe(60);
      // p2c-ewma may starve the slowest of three equal servers (it loses every pair it is in).
      expect(counts.size).toBeGreaterThanOrEqual(picker === "p2c-ewma" ? 2 : 3);
    },
  );

  it("p2c-ewma sends calls to the faster server (latencies are reported per call)", async () => {
    const { servers } = await serve("p2c", ["slow", "fast"]);
    (servers[0] as EchoServer).delayMs = 100;
    const c = client("keyway:///p2c", keywayChannelOptions({ picker: "p2c-ewma" }));
    await warmUp(c, ["slow", "fast"]);
    const counts = await tally(c, 100);
    // Round-robin would give it 50; a latency spike of `fast` on a busy machine may cost a few.
    expect(counts.get("slow") ?? 0).toBeLessThanOrEqual(10);
  });

  it("skips an instance that keeps failing (down policy)", async () => {
    const { servers } = await serve("flaky", ["bad", "good"]);
    const c = client(
      "keyway:///flaky",
      keywayChannelOptions({ downPolicy: { failures: 2, downForMs: 60_000 } }),
    );
    await warmUp(c, ["bad", "good"]);
    const bad = servers[0] as EchoServer;
    bad.failWith = status.UNAVAILABLE;
    const start = bad.calls;
    const outcomes: PromiseSettledResult<string>[] = [];
    for (let n = 0; n < 20; n++) outcomes.push(...(await Promise.allSettled([who(c)])));
    // Round-robin: `bad` gets every other call until its second failure, then none.
    expect(bad.calls - start).toBe(2);
    expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(2);
  });

  it("when every instance is down: fails fast, and a wait-for-ready call waits for the probe after the down time", async () => {
    const { servers } = await serve("solo", ["solo"]);
    const solo = servers[0] as EchoServer;
    const c = client("keyway:///solo", keywayChannelOptions({ downPolicy: { failures: 1, downForMs: 600 } }));
    await warmUp(c, ["solo"]);
    solo.failWith = status.UNAVAILABLE;
    await expect(who(c)).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: "solo fails on purpose",
    });
    const downAt = Date.now();
    await expect(who(c)).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringContaining("keyway: every ready instance is down after failed calls"),
    });
    solo.failWith = undefined;
    await expect(who(c, { waitForReady: true })).resolves.toBe("solo");
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(550);
  });

  it("with no instance: fails UNAVAILABLE at once, or waits (wait-for-ready) until one registers", async () => {
    const c = client("keyway:///nobody");
    await expect(who(c)).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringContaining("keyway: no instance to call (keyway:///nobody: 0 instance(s) up"),
    });
    const waiting = who(c, { waitForReady: true, deadlineMs: 10_000 });
    waiting.catch(() => undefined); // asserted below
    await serve("nobody", ["late"]);
    await expect(waiting).resolves.toBe("late");
  });

  it("dials the port in the address when the instance has no grpc port; the policy also works with other resolvers", async () => {
    const [one, two] = await Promise.all([startEchoServer("one"), startEchoServer("two")]);
    cleanup.push(() => Promise.all([one, two].map((s) => s?.close())));
    const s1 = one as EchoServer;
    const s2 = two as EchoServer;
    const r = await registry(env.client).register({
      service: "plain",
      instance: { id: "one", address: `127.0.0.1:${s1.port}` },
    });
    cleanup.push(() => r.close());
    await expect(who(client("keyway:///plain"), { waitForReady: true })).resolves.toBe("one");

    const direct = client(`ipv4:127.0.0.1:${s1.port},127.0.0.1:${s2.port}`, keywayChannelOptions());
    await warmUp(direct, ["one", "two"]);
    expect(Object.fromEntries(await tally(direct, 20, 10))).toEqual({ one: 10, two: 10 });
  });

  it("before a first listing, a registry that cannot be reached fails calls UNAVAILABLE, saying why", async () => {
    const dead = new KeywayClient({ endpoints: [`http://127.0.0.1:${await freePort()}`] });
    cleanup.push(() => dead.close());
    const handle = useKeywayResolver(registry(dead), { scheme: "keyway-dead" });
    cleanup.push(() => handle.close());
    const c = client("keyway-dead:///svc");
    await expect(who(c, { deadlineMs: 10_000 })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringContaining("keyway-dead:///svc: cannot list the service's instances"),
    });
  });

  it("refuses invalid targets and configs before any call", () => {
    expect(() => echoClient("keyway:///not/a-service")).toThrow(/service of target/);
    expect(() => keywayChannelOptions({ picker: "fastest" as PickerName })).toThrow(/unknown picker/);
    expect(() => useKeywayResolver(registry(env.client), { scheme: "Bad Scheme" })).toThrow(/scheme/);
  });
});
