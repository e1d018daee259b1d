import type { Message } from "@keyway/raft";
import { SeededRng } from "@keyway/raft";
import { afterEach, describe, expect, it } from "vitest";
import { connectAll, startMember, type TestMember, waitFor } from "./members.js";
import { msg } from "./random-message.js";

const started: TestMember[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.transport.close()));
});

function snapshotMessage(from: bigint, to: bigint, bytes: number): Message {
  const data = new Uint8Array(bytes);
  const rng = new SeededRng(bytes);
  // Fill in 32-bit words: quick, and a misplaced chunk shows up as a mismatch.
  const words = new Uint32Array(data.buffer, 0, bytes >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = rng.next32();
  return msg({
    type: "MsgSnap",
    from,
    to,
    term: 4,
    snapshot: {
      data,
      metadata: { index: 1000, term: 3, confState: { voters: [1n, 2n, 3n], learners: [4n] } },
    },
  });
}

describe("PeerTransport snapshots", () => {
  it("delivers a 50 MiB MsgSnap while heartbeats keep flowing, then reports it delivered", async () => {
    const heartbeatGapsMs: number[] = [];
    let lastHeartbeatAt = 0;
    let snapshotAt = 0;
    const a = await startMember(1n);
    const b = await startMember(2n, {
      onMessage: (message) => {
        const now = performance.now();
        if (message.type === "MsgSnap") snapshotAt = now;
        else if (snapshotAt === 0) {
          if (lastHeartbeatAt !== 0) heartbeatGapsMs.push(now - lastHeartbeatAt);
          lastHeartbeatAt = now;
        }
      },
    });
    started.push(a, b);
    connectAll([a, b]);
    const snap = snapshotMessage(1n, 2n, 50 * 1024 * 1024);
    let commit = 0;
    a.transport.send([msg({ type: "MsgHeartbeat", from: 1n, to: 2n, commit: commit++ })]);
    await waitFor("the stream to be up", () => b.received.length === 1);
    const timer = setInterval(
      () => a.transport.send([msg({ type: "MsgHeartbeat", from: 1n, to: 2n, commit: commit++ })]),
      10,
    );
    const commitAtSnapshot = commit;
    try {
      a.transport.send([snap]);
      await waitFor("the snapshot status", () => a.snapshotStatus.length === 1, 15_000);
    } finally {
      clearInterval(timer);
    }
    expect(a.snapshotStatus).toEqual([{ id: 2n, delivered: true }]);
    const received = b.received.find((m) => m.type === "MsgSnap")!;
    expect(received.snapshot!.metadata).toEqual(snap.snapshot!.metadata);
    expect(Buffer.compare(received.snapshot!.data, snap.snapshot!.data)).toBe(0);
    expect({ ...received, snapshot: undefined }).toEqual({ ...snap, snapshot: undefined });
    // Heartbeats sent after the snapshot overtook it (they do not queue behind its 50 MiB), and none
    // was held up for long.
    const overtaking = b.received
      .slice(0, b.received.indexOf(received))
      .filter((m) => m.commit >= commitAtSnapshot);
    expect(overtaking.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...heartbeatGapsMs)).toBeLessThan(1000);
  });

  it("refuses a second MsgSnap to a peer while one is in flight", async () => {
    const a = await startMember(1n);
    const b = await startMember(2n);
    started.push(a, b);
    connectAll([a, b]);
    a.transport.send([snapshotMessage(1n, 2n, 4 * 1024 * 1024), snapshotMessage(1n, 2n, 1024)]);
    expect(a.snapshotStatus).toEqual([{ id: 2n, delivered: false }]);
    await waitFor("the first snapshot's status", () => a.snapshotStatus.length === 2);
    expect(a.snapshotStatus[1]).toEqual({ id: 2n, delivered: true });
    expect(b.received.map((m) => m.snapshot!.data.length)).toEqual([4 * 1024 * 1024]);
  });

  it("reports a snapshot to an unreachable peer as not delivered", async () => {
    const a = await startMember(1n);
    const b = await startMember(2n);
    started.push(a, b);
    connectAll([a, b]);
    await b.transport.close();
    a.transport.send([snapshotMessage(1n, 2n, 1024)]);
    await waitFor("the snapshot status", () => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2n, delivered: false }]);
  });

  it("refuses a snapshot above the receiver's limit and reports it not delivered", async () => {
    const a = await startMember(1n);
    const b = await startMember(2n, { limits: { maxSnapshotBytes: 1000 } });
    started.push(a, b);
    connectAll([a, b]);
    a.transport.send([snapshotMessage(1n, 2n, 4096)]);
    await waitFor("the snapshot status", () => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([{ id: 2n, delivered: false }]);
    expect(b.received).toEqual([]);
    expect(b.logs.some((line) => String(line.fields.reason).includes("exceeds the limit of 1000"))).toBe(
      true,
    );
  });
});
