import { connect, createServer, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { credentials, type ServiceError } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { describe, expect, it } from "vitest";
import { EMPTY_SETTINGS_FRAME } from "../../src/http2/first-request-sniffer.js";
import { CONNECTION_PREFACE } from "../../src/http2/frames.js";
import { STATUS, startStatusServer } from "./status-server.js";
import { frame } from "./wire.js";

const SETTINGS = 0x4;
const SETTINGS_ACK = frame(SETTINGS, 0x1, 0, Buffer.alloc(0));

function status(target: string, authority?: string): Promise<etcdserverpb.StatusResponse> {
  const options = authority === undefined ? {} : { "grpc.default_authority": authority };
  const client = new etcdserverpb.MaintenanceClient(target, credentials.createInsecure(), options);
  return new Promise<etcdserverpb.StatusResponse>((resolve, reject) =>
    client.status({}, (error: ServiceError | null, response?: etcdserverpb.StatusResponse) =>
      error ? reject(error) : resolve(response!),
    ),
  ).finally(() => client.close());
}

/**
 * A TCP proxy in front of `port` that passes the client's first `slowBytes` octets one at a time,
 * 1 ms apart (each its own TCP segment: Nagle is off), the rest and all replies at once.
 */
async function trickleProxy(port: number, slowBytes: number): Promise<Server & { port: number }> {
  const proxy = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ port, host: "127.0.0.1", noDelay: true });
    let sent = 0;
    let queue = Promise.resolve();
    client.on("data", (chunk: Buffer) => {
      queue = queue.then(async () => {
        for (const byte of chunk) {
          upstream.write(Buffer.from([byte]));
          if (++sent < slowBytes) await sleep(1);
        }
      });
    });
    upstream.pipe(client);
    for (const socket of [client, upstream]) {
      socket.on("error", () => {});
      socket.on("close", () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return Object.assign(proxy, { port: (proxy.address() as { port: number }).port });
}

/** Opens a raw connection; collects what the server sends until it closes. */
async function rawConnection(
  port: number,
): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const socket = connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  await new Promise((resolve) => socket.on("connect", resolve));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** Polls `ready` every 20 ms until it holds or 3 s have passed (a loaded CI machine is slow). */
async function until(ready: () => boolean): Promise<void> {
  for (let waited = 0; !ready() && waited < 3_000; waited += 20) await sleep(20);
}

describe("listener: the first header block decides native socket or repairing stream", () => {
  it("gives a grpc-js client the native socket (grpc-js then knows the peer) and repairs http://", async () => {
    await using server = await startStatusServer();
    const target = `127.0.0.1:${server.port}`;
    expect(await status(target)).toEqual(STATUS);
    expect(await status(target, `http://${target}`)).toEqual(STATUS);
    expect(server.routes).toEqual(["native", "repair"]);
    expect(server.peers[0]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.peers[1]).toBe("unknown");
    expect(server.authorities).toEqual([target, target]);
  });

  it("decides right when the client's bytes arrive one at a time", async () => {
    await using server = await startStatusServer();
    const proxy = await trickleProxy(server.port, 400);
    try {
      const target = `127.0.0.1:${proxy.port}`;
      expect(await status(target)).toEqual(STATUS);
      expect(await status(target, `http://${target}`)).toEqual(STATUS);
    } finally {
      proxy.close();
    }
    expect(server.routes).toEqual(["native", "repair"]);
    expect(server.authorities).toEqual([`127.0.0.1:${proxy.port}`, `127.0.0.1:${proxy.port}`]);
  });

  it("routes HTTP/1.1 to the http1 handler", async () => {
    await using server = await startStatusServer("127.0.0.1", {
      http1: (socket) => socket.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"),
    });
    const response = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(await response.text()).toBe("ok");
    expect(server.routes).toEqual(["http1"]);
  });

  it("leaves a connection that sends nothing alone, and closes promptly with it open", async () => {
    await using server = await startStatusServer("127.0.0.1", { sniffTimeoutMs: 100 });
    const silent = await rawConnection(server.port);
    await sleep(300);
    expect(silent.received().length).toBe(0);
    silent.socket.end();
    await silent.closed;
    const open = await rawConnection(server.port);
    expect(await status(`127.0.0.1:${server.port}`)).toEqual(STATUS);
    const started = Date.now();
    await server.listener.close();
    await open.closed;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.routes).toEqual(["native"]);
    expect(server.errors).toEqual([]);
  });

  it("answers a client that waits for the server preface; cuts it if it never acknowledges", async () => {
    await using server = await startStatusServer("127.0.0.1", { sniffTimeoutMs: 300 });
    const opening = Buffer.concat([CONNECTION_PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]);
    const mute = await rawConnection(server.port);
    mute.socket.write(opening);
    await until(() => mute.received().length >= EMPTY_SETTINGS_FRAME.length);
    expect(mute.received()).toEqual(EMPTY_SETTINGS_FRAME);
    await mute.closed;
    expect(server.routes).toEqual([]);

    // Acknowledged but no request before the timeout: the repairing stream serves it.
    const idle = await rawConnection(server.port);
    idle.socket.write(opening);
    // As a real client does: acknowledge the SETTINGS once it has arrived.
    await until(() => idle.received().length >= EMPTY_SETTINGS_FRAME.length);
    idle.socket.write(SETTINGS_ACK);
    await until(() => idle.received().length > EMPTY_SETTINGS_FRAME.length);
    expect(server.routes).toEqual(["repair"]);
    const afterOurs = idle.received().subarray(EMPTY_SETTINGS_FRAME.length);
    expect(afterOurs[3]).toBe(SETTINGS); // the HTTP/2 server's own preface followed
    idle.socket.destroy();
  });
});
