import { connect, type Socket } from "node:net";
import type { Message } from "@keyway/raft";
import { FRAME_HEADER_BYTES, FrameKind, FrameReader, writeFrameHeader } from "./frame.js";
import { encodeHello, hex } from "./handshake.js";
import { encodedMessageSize, writeMessage } from "./message-codec.js";
import type { PeerContext } from "./options.js";
import { parsePeerUrl } from "./peer-url.js";
import { WireWriter } from "./wire.js";

const EMPTY = new Uint8Array(0);
/** Only acks and refusals come back on a snapshot connection. */
const MAX_REPLY_FRAME_BYTES = 64 * 1024;

/**
 * Sends a MsgSnap on a connection of its own, so hundreds of MiB of snapshot data never sit in
 * front of heartbeats on the message stream. Data goes out in chunks straight from the snapshot's
 * buffer (no copy), pausing on back-pressure. Resolves once the peer acknowledged receipt; rejects
 * when no URL connects, the connection fails or idles past `deadPeerTimeoutMs`, or `signal` aborts.
 */
export async function uploadSnapshot(
  ctx: PeerContext,
  urls: readonly string[],
  message: Message,
  signal: AbortSignal,
): Promise<void> {
  let lastError: unknown = new Error(`peer ${hex(message.to)} has no URLs`);
  for (const url of urls) {
    let socket: Socket;
    try {
      socket = await dial(url, ctx.limits.deadPeerTimeoutMs, signal);
    } catch (error) {
      lastError = error;
      continue;
    }
    try {
      await transfer(socket, ctx, message, signal);
      return;
    } finally {
      socket.destroy();
    }
  }
  throw lastError;
}

function dial(url: string, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  const { host, port } = parsePeerUrl(url);
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("snapshot upload aborted"));
    const socket = connect({ host, port, noDelay: true, signal });
    const timer = setTimeout(() => socket.destroy(new Error(`connect to ${url} timed out`)), timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function transfer(
  socket: Socket,
  ctx: PeerContext,
  message: Message,
  signal: AbortSignal,
): Promise<void> {
  const data = message.snapshot!.data;
  let fail: (error: Error) => void = () => {};
  let acknowledged: () => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const acked = new Promise<void>((resolve) => {
    acknowledged = resolve;
  });
  failed.catch(() => {});
  socket.on("error", (error) => fail(error));
  socket.on("close", () => fail(new Error("snapshot connection closed before the peer acknowledged")));
  socket.setTimeout(ctx.limits.deadPeerTimeoutMs, () => {
    fail(new Error(`snapshot connection idle for ${ctx.limits.deadPeerTimeoutMs} ms`));
    socket.destroy();
  });
  signal.addEventListener("abort", () => fail(new Error("snapshot upload aborted")), { once: true });
  const reader = new FrameReader(MAX_REPLY_FRAME_BYTES);
  socket.on("data", (chunk: Buffer) => {
    try {
      for (const frame of reader.push(chunk)) {
        if (frame.kind === FrameKind.snapshotAck) acknowledged();
        else if (frame.kind === FrameKind.refuse)
          fail(new Error(`peer refused: ${frame.payload.toString("utf8")}`));
        else fail(new Error(`unexpected frame kind ${frame.kind} on a snapshot connection`));
      }
    } catch (error) {
      fail(error as Error);
    }
  });
  socket.write(
    encodeHello({ purpose: "snapshot", clusterId: ctx.clusterId, from: ctx.self, to: message.to }),
  );
  socket.write(encodeHead(message));
  const chunkBytes = ctx.limits.snapshotChunkBytes;
  for (let offset = 0; offset < data.length; offset += chunkBytes) {
    const chunk = data.subarray(offset, offset + chunkBytes);
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    writeFrameHeader(header, FrameKind.snapshotChunk, chunk.length);
    socket.write(header);
    if (!socket.write(chunk))
      await Promise.race([new Promise((resolve) => socket.once("drain", resolve)), failed]);
  }
  await Promise.race([acked, failed]);
}

/** The head frame: u64 data length, then the message with empty snapshot data. */
function encodeHead(message: Message): Buffer {
  const snapshot = message.snapshot!;
  const head: Message = { ...message, snapshot: { ...snapshot, data: EMPTY } };
  const payloadBytes = 8 + encodedMessageSize(head);
  const writer = new WireWriter(Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes), FRAME_HEADER_BYTES);
  writeFrameHeader(writer.buffer, FrameKind.snapshotHead, payloadBytes);
  writer.uint(snapshot.data.length);
  writeMessage(writer, head);
  return writer.buffer;
}
