import { connect, createServer, type Server, type Socket } from "node:net";
import type { Message } from "@keyway/raft";
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame, FrameKind, FrameReader } from "../../src/peer/frame.js";
import { encodeHello } from "../../src/peer/handshake.js";
import { encodeMessageFrames, type MessageFrame } from "../../src/peer/message-frames.js";
import { connectAll, logged, startMember, type TestMember, waitFor } from "./members.js";
import { msg } from "./random-message.js";

const started: TestMember[] = [];
const rawServers: Server[] = [];

async function member(id: bigint, options: Parameters<typeof startMember>[1] = {}): Promise<TestMember> {
  const m = await startMember(id, options);
  started.push(m);
  return m;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.transport.close()));
  await Promise.all(rawServers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A TCP server that accepts and then does what `onSocket` says (or nothing at all). */
async function rawServer(onSocket: (socket: Socket) => void): Promise<string> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    onSocket(socket);
  });
  server.on("close", () => {
    for (const socket of sockets) socket.destroy();
  });
  rawServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  // close() waits for connections: destroy them first.
  const close = server.close.bind(server);
  server.close = (callback) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  return `http://127.0.0.1:${address.port}`;
}

const app = (from: bigint, to: bigint, index: number): Message =>
  msg({
    type: "MsgApp",
    from,
    to,
    term: 2,
    index,
    entries: [{ term: 2, index, type: "normal", data: new TextEncoder().encode(`e${index}`) }],
  });
const heartbeat = (from: bigint, to: bigint, commit: number): Message =>
  msg({ type: "MsgHeartbeat", from, to, term: 2, commit });

describe("PeerTransport", () => {
  it("two members exchange messages in order, both ways", async () => {
    const [a, b] = [await member(1n), await member(2n)];
    connectAll([a, b]);
    const fromA = Array.from({ length: 500 }, (_, i) => app(1n, 2n, i + 1));
    const fromB = Array.from({ length: 500 }, (_, i) => heartbeat(2n, 1n, i));
    for (let i = 0; i < 500; i += 7) {
      a.transport.send(fromA.slice(i, i + 7));
      b.transport.send(fromB.slice(i, i + 7));
    }
    await waitFor("all messages", () => a.received.length === 500 && b.received.length === 500);
    expect(b.received).toEqual(fromA);
    expect(a.received).toEqual(fromB);
    expect([...a.unreachable, ...b.unreachable]).toEqual([]);
  });

  it("three members: each receives each sender's messages in order", async () => {
    const members = [await member(1n), await member(2n), await member(3n)];
    connectAll(members);
    for (let i = 1; i <= 200; i++) {
      for (const m of members) {
        const others = members.filter((o) => o !== m);
        m.transport.send(others.map((o) => app(m.id, o.id, i)));
      }
    }
    await waitFor("every message", () => members.every((m) => m.received.length === 400));
    for (const m of members) {
      for (const sender of members.filter((o) => o !== m)) {
        const indexes = m.received.filter((r) => r.from === sender.id).map((r) => r.index);
        expect(indexes).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        expect(m.received.every((r) => r.to === m.id)).toBe(true);
      }
    }
  });

  it("reconnects after the peer's transport is closed and restarted on the same port", async () => {
    const limits = { minBackoffMs: 20, maxBackoffMs: 100 };
    const a = await member(1n, { limits });
    let b = await member(2n, { limits });
    connectAll([a, b]);
    a.transport.send([heartbeat(1n, 2n, 1)]);
    await waitFor("first heartbeat", () => b.received.length === 1);
    await b.transport.close();
    await waitFor("B reported unreachable", () => a.unreachable.includes(2n));
    a.transport.send([heartbeat(1n, 2n, 2)]);
    expect(a.unreachable.filter((id) => id === 2n).length).toBeGreaterThanOrEqual(2);
    b = await member(2n, { limits, listenUrl: b.url });
    let commit = 3;
    await waitFor("a heartbeat after the restart", () => {
      a.transport.send([heartbeat(1n, 2n, commit++)]);
      return b.received.length > 0;
    });
    expect(b.received[0]!.commit).toBeGreaterThanOrEqual(3);
  });

  it("tries each URL in turn, follows updatePeer, and forgets a removed peer", async () => {
    const limits = { minBackoffMs: 20, maxBackoffMs: 100 };
    const a = await member(1n, { limits });
    const b = await member(2n, { limits });
    const deadUrl = await rawServer((socket) => socket.destroy());
    a.transport.addPeer(2n, [deadUrl, b.url]);
    let commit = 0;
    await waitFor("a heartbeat over the second URL", () => {
      a.transport.send([heartbeat(1n, 2n, commit++)]);
      return b.received.length > 0;
    });
    await b.transport.close();
    const moved = await member(2n, { limits });
    a.transport.updatePeer(2n, [moved.url]);
    await waitFor("a heartbeat at the new address", () => {
      a.transport.send([heartbeat(1n, 2n, commit++)]);
      return moved.received.length > 0;
    });
    a.transport.removePeer(2n);
    const before = a.unreachable.length;
    a.transport.send([heartbeat(1n, 2n, commit++)]);
    expect(a.unreachable.length).toBe(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(moved.received.every((m) => m.commit < commit - 1)).toBe(true);
  });

  it("refuses a handshake from another cluster, with the reason logged on both sides", async () => {
    const a = await member(1n, { clusterId: 0xaan });
    const b = await member(2n, { clusterId: 0xbbn });
    connectAll([a, b]);
    a.transport.send([heartbeat(1n, 2n, 1)]);
    await waitFor("the refusal", () => a.unreachable.includes(2n));
    expect(logged(b, "warn", "cluster id mismatch: peer 1 is in cluster aa, this member in bb")).toBe(true);
    expect(logged(a, "warn", "peer refused the connection")).toBe(true);
    expect(logged(a, "warn", "cluster id mismatch")).toBe(true);
    expect(b.received).toEqual([]);
  });

  it("drops a corrupted frame's connection only, and keeps serving the others", async () => {
    const a = await member(1n);
    const b = await member(2n);
    connectAll([a, b]);
    const port = Number(new URL(b.url).port);
    const bad = connect({ port, host: "127.0.0.1" });
    const closed = new Promise((resolve) => bad.on("close", resolve));
    bad.write(encodeHello({ purpose: "stream", clusterId: 0xc1n, from: 3n, to: 2n }));
    bad.write(encodeFrame(FrameKind.messages, Buffer.from([200, 0, 0, 0])));
    await closed;
    expect(logged(b, "warn", "unknown message type code 200")).toBe(true);
    a.transport.send([heartbeat(1n, 2n, 9)]);
    await waitFor("a heartbeat from A", () => b.received.length === 1);
    expect(b.received[0]!.commit).toBe(9);
  });

  it("acknowledges a frame that arrives slowly with pongs, so a slow link is not taken for dead", async () => {
    const b = await member(2n, { limits: { keepaliveIntervalMs: 200 } });
    const socket = connect({ port: Number(new URL(b.url).port), host: "127.0.0.1" });
    const replies = new FrameReader(1024);
    let pongs = 0;
    socket.on("data", (chunk: Buffer) => {
      for (const frame of replies.push(chunk)) if (frame.kind === FrameKind.pong) pongs++;
    });
    socket.write(encodeHello({ purpose: "stream", clusterId: 0xc1n, from: 1n, to: 2n }));
    const big = msg({
      type: "MsgApp",
      from: 1n,
      to: 2n,
      entries: [{ term: 1, index: 1, type: "normal", data: new Uint8Array(30_000) }],
    });
    const [{ frame }] = encodeMessageFrames([big], 1 << 20) as [MessageFrame];
    // 30 pieces, 20 ms apart, and never a ping: only the bytes themselves can earn the pongs.
    let pongsBeforeTheLastPiece = 0;
    for (let offset = 0; offset < frame.length; offset += 1024) {
      pongsBeforeTheLastPiece = pongs;
      socket.write(frame.subarray(offset, offset + 1024));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor("the message", () => b.received.length === 1);
    socket.destroy();
    expect(b.received[0]!.entries[0]!.data.length).toBe(30_000);
    expect(pongsBeforeTheLastPiece).toBeGreaterThanOrEqual(3);
  });

  it("drops messages and reports unreachable when the receiver stops reading", async () => {
    const url = await rawServer((socket) => socket.pause());
    const a = await member(1n, { limits: { maxQueuedBytes: 1024 * 1024, maxQueuedMessages: 10_000 } });
    a.transport.addPeer(2n, [url]);
    const entry = (index: number) =>
      msg({
        type: "MsgApp",
        from: 1n,
        to: 2n,
        entries: [{ term: 1, index, type: "normal", data: new Uint8Array(64 * 1024) }],
      });
    let sent = 0;
    while (a.unreachable.length === 0 && sent < 2000) {
      a.transport.send([entry(++sent)]);
      if (sent % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(a.unreachable[0]).toBe(2n);
    // The kernel buffers a few MiB, then our queue is bounded at 1 MiB: far from 2000 × 64 KiB.
    expect(sent).toBeLessThan(1000);
    expect(logged(a, "warn", "dropping messages to peer")).toBe(true);
    expect(logged(a, "warn", '"state":"open"')).toBe(true);
  });

  it("detects a peer that accepts but never answers", async () => {
    const url = await rawServer((socket) => socket.resume());
    const a = await member(1n, { limits: { keepaliveIntervalMs: 100, deadPeerTimeoutMs: 500 } });
    a.transport.addPeer(2n, [url]);
    const start = performance.now();
    a.transport.send([heartbeat(1n, 2n, 1)]);
    await waitFor("the dead peer noticed", () => a.unreachable.includes(2n), 3000);
    expect(performance.now() - start).toBeGreaterThanOrEqual(500);
    expect(logged(a, "warn", "peer stopped answering")).toBe(true);
  });
});
