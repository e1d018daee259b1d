import { credentials, Metadata, Server, ServerCredentials, type ServiceError } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { afterEach, describe, expect, it } from "vitest";
import { LeaderMonitor } from "../../src/rpc/leader-monitor.js";
import { watchService, watchServiceDefinition } from "../../src/rpc/watch.js";
import type { WatchHub } from "../../src/watch/index.js";
import { Harness, req } from "../apply/harness.js";
import { create, hubOver } from "./support.js";

/** A short election timeout, so the leader monitor's three timeouts pass quickly. */
const ELECTION_TIMEOUT_MS = 100;

/** The Watch service over real gRPC on loopback, in-process: metadata, limits, shutdown. */
describe("Watch service", () => {
  let h: Harness;
  let server: Server;
  let client: etcdserverpb.WatchClient;
  let hub: WatchHub;
  let monitor: LeaderMonitor;
  /** The member's leader as the monitor sees it (0n: none). */
  let lead = 1n;

  async function start(hasLeader: boolean, maxStreams = 100, streamBufferBytes = 4 << 20): Promise<void> {
    h = Harness.open();
    hub = hubOver(h.sm, { maxStreams, streamBufferBytes });
    lead = hasLeader ? 1n : 0n;
    monitor = new LeaderMonitor(() => lead, ELECTION_TIMEOUT_MS);
    server = new Server();
    server.addService(watchServiceDefinition(), watchService({ hub, leader: monitor }));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, p) =>
        error ? reject(error) : resolve(p),
      ),
    );
    client = new etcdserverpb.WatchClient(`127.0.0.1:${port}`, credentials.createInsecure());
  }

  afterEach(async () => {
    client.close();
    server.forceShutdown();
    monitor.close();
    hub.close();
    await h.close();
  });

  /** Opens a stream, creates one watcher on "k" and resolves with its first response or error. */
  function firstOutcome(metadata = new Metadata()) {
    const stream = client.watch(metadata);
    const outcome = new Promise<etcdserverpb.WatchResponse | { code: number; details: string }>((resolve) => {
      stream.once("data", resolve);
      stream.once("error", (e: ServiceError) => resolve({ code: e.code, details: e.details }));
    });
    stream.write(create({ key: Buffer.from("k") }));
    return { stream, outcome };
  }

  it("fails a hasleader=true stream with `etcdserver: no leader` when there is no leader", async () => {
    await start(false);
    const metadata = new Metadata();
    metadata.set("hasleader", "true");
    expect(await firstOutcome(metadata).outcome).toEqual({ code: 14, details: "etcdserver: no leader" });
    // Without the metadata the stream is served.
    const { stream, outcome } = firstOutcome();
    expect(await outcome).toMatchObject({ created: true, watchId: 0n });
    stream.cancel();
  });

  it("cancels a hasleader=true stream only after three election timeouts without a leader", async () => {
    await start(true);
    const metadata = new Metadata();
    metadata.set("hasleader", "true");
    const { stream, outcome } = firstOutcome(metadata);
    expect(await outcome).toMatchObject({ created: true });
    const ended = new Promise<{ code: number; details: string }>((resolve) =>
      stream.once("error", (e: ServiceError) => resolve({ code: e.code, details: e.details })),
    );
    const endedAt = ended.then(() => performance.now());
    // An election shorter than that leaves the stream alone.
    lead = 0n;
    await new Promise((resolve) => setTimeout(resolve, 1.5 * ELECTION_TIMEOUT_MS));
    lead = 2n;
    await new Promise((resolve) => setTimeout(resolve, 2 * ELECTION_TIMEOUT_MS));
    const lostAt = performance.now();
    lead = 0n;
    expect(await ended).toEqual({ code: 14, details: "etcdserver: no leader" });
    expect((await endedAt) - lostAt).toBeGreaterThanOrEqual(2 * ELECTION_TIMEOUT_MS);
  });

  it("refuses streams beyond the member's limit and frees a slot when a stream ends", async () => {
    await start(true, 1);
    const first = firstOutcome();
    expect(await first.outcome).toMatchObject({ created: true });
    expect(await firstOutcome().outcome).toEqual({
      code: 8,
      details: "keyway: too many watch streams (limit 1)",
    });
    first.stream.cancel();
    await expect.poll(() => hub.streamCount).toBe(0);
    const again = firstOutcome();
    expect(await again.outcome).toMatchObject({ created: true });
    again.stream.cancel();
  });

  it("delivers events over the wire with bytes encoded by the hub", async () => {
    await start(true);
    const { stream, outcome } = firstOutcome();
    await outcome;
    const event = new Promise<etcdserverpb.WatchResponse>((resolve) => stream.once("data", resolve));
    h.applyAll(req.put("k", "v"));
    const response = await event;
    expect(
      response.events.map((e) => [e.kv?.key.toString(), e.kv?.value.toString(), e.kv?.modRevision]),
    ).toEqual([["k", "v", 2n]]);
    expect(response.header?.revision).toBe(2n);
    stream.cancel();
  });

  it("backs a stream up when its client stops reading, then catches it up from the backend", async () => {
    await start(true, 100, 64 * 1024);
    const { stream, outcome } = firstOutcome();
    await outcome;
    const revisions: bigint[] = [];
    stream.on("data", (r: etcdserverpb.WatchResponse) => {
      for (const e of r.events) revisions.push(e.kv?.modRevision as bigint);
    });
    stream.pause();
    const value = "x".repeat(50_000);
    for (let i = 0; i < 100; i++) {
      h.applyAll(req.put("k", value));
      await new Promise((resolve) => setImmediate(resolve));
    }
    // 5 MB the client does not read: the session stops feeding it live events.
    await expect.poll(() => hub.slowWatcherCount).toBe(1);
    stream.resume();
    await expect.poll(() => revisions.length, { timeout: 10_000 }).toBe(100);
    expect(revisions).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i + 2)));
    stream.cancel();
  });

  it("ends open streams with `etcdserver: server stopped` when the hub closes", async () => {
    await start(true);
    const { stream, outcome } = firstOutcome();
    await outcome;
    const ended = new Promise<{ code: number; details: string }>((resolve) =>
      stream.once("error", (e: ServiceError) => resolve({ code: e.code, details: e.details })),
    );
    hub.close();
    expect(await ended).toEqual({ code: 14, details: "etcdserver: server stopped" });
  });
});
