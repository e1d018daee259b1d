import { lookup } from "node:dns/promises";
import { connect } from "node:net";
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { describe, expect, it } from "vitest";
import { CONNECTION_PREFACE } from "../../src/http2/frames.js";
import { echo, STATUS, startStatusServer } from "./status-server.js";
import { frame } from "./wire.js";

type Unary<T> = (
  request: T,
  metadata: Metadata,
  callback: (error: ServiceError | null, response?: T) => void,
) => void;

function call<T>(method: Unary<T>, request: T, metadata = new Metadata()): Promise<T> {
  return new Promise((resolve, reject) =>
    method(request, metadata, (error, response) => (error ? reject(error) : resolve(response as T))),
  );
}

describe("grpc-js client -> authority repair -> grpc-js server", () => {
  it("serves calls with a scheme in :authority on one connection, big headers and messages", async () => {
    await using server = await startStatusServer();
    const authority = `http://127.0.0.1:${server.port}`;
    const options = { "grpc.default_authority": authority, "grpc.max_receive_message_length": -1 };
    const maintenance = new etcdserverpb.MaintenanceClient(
      `127.0.0.1:${server.port}`,
      credentials.createInsecure(),
      options,
    );
    const raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure(), options);
    try {
      for (let i = 0; i < 5; i++) {
        expect(await call(maintenance.status.bind(maintenance), {})).toEqual(STATUS);
      }
      const big = Buffer.alloc(3 * 1024 * 1024, 0x5a);
      const metadata = new Metadata();
      metadata.set("x-large", "m".repeat(20_000));
      const echoed = await echo(raw, big, metadata);
      expect(echoed.equals(big)).toBe(true);
    } finally {
      maintenance.close();
      raw.close();
    }
    expect(server.authorities).toEqual(Array(6).fill(`127.0.0.1:${server.port}`));
  });

  it("listens on a bracketed IPv6 host and repairs a bracketed authority", async () => {
    await using server = await startStatusServer("[::1]");
    const address = `[::1]:${server.port}`;
    const client = new etcdserverpb.MaintenanceClient(address, credentials.createInsecure(), {
      "grpc.default_authority": `http://${address}/`,
    });
    try {
      expect(await call(client.status.bind(client), {})).toEqual(STATUS);
    } finally {
      client.close();
    }
    expect(server.authorities).toEqual([address]);
  });

  it("listens on every address a host name resolves to", async () => {
    await using server = await startStatusServer("localhost");
    const addresses = await lookup("localhost", { all: true });
    for (const { address, family } of addresses) {
      const target = family === 6 ? `[${address}]:${server.port}` : `${address}:${server.port}`;
      const client = new etcdserverpb.MaintenanceClient(target, credentials.createInsecure());
      try {
        expect(await call(client.status.bind(client), {})).toEqual(STATUS);
      } finally {
        client.close();
      }
    }
    expect(server.authorities).toHaveLength(addresses.length);
  });

  it("destroys a connection that sends bad HPACK and keeps serving others", async () => {
    await using server = await startStatusServer();
    const socket = connect(server.port, "127.0.0.1");
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("error", () => {});
    socket.resume();
    socket.write(
      Buffer.concat([
        CONNECTION_PREFACE,
        frame(0x4, 0, 0, Buffer.alloc(0)),
        frame(0x1, 0x5, 1, Buffer.from([0x80])),
      ]),
    );
    await closed;
    expect(server.errors.map((error) => error.name)).toEqual(["Http2InputError"]);
    const client = new etcdserverpb.MaintenanceClient(
      `127.0.0.1:${server.port}`,
      credentials.createInsecure(),
    );
    try {
      expect(await call(client.status.bind(client), {})).toEqual(STATUS);
    } finally {
      client.close();
    }
  });

  it("close(grace) stops accepting, ends once a grpc-js shutdown ends the connections", async () => {
    await using server = await startStatusServer();
    const client = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
    try {
      await echo(client, Buffer.from("x"));
      const started = Date.now();
      const closing = server.listener.close(10_000);
      await new Promise((resolve) => server.grpc.tryShutdown(resolve));
      await closing;
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      client.close();
    }
    const refused = await new Promise<string>((resolve) =>
      connect(server.port, "127.0.0.1")
        .on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? ""))
        .on("connect", () => resolve("connected")),
    );
    expect(refused).toBe("ECONNREFUSED");
  });

  it("close() cuts connections still open", async () => {
    await using server = await startStatusServer();
    const socket = connect(server.port, "127.0.0.1");
    await new Promise((resolve) => socket.on("connect", resolve));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("error", () => {});
    socket.resume();
    await server.listener.close();
    await closed;
  });
});
