import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { CONNECTION_PREFACE } from "../../src/http2/frames.js";
import { AuthorityRepairingStream } from "../../src/http2/repairing-stream.js";
import { frame } from "./wire.js";

/** A loopback TCP pair: the accepted side wrapped in the stream under test, and the client socket. */
async function pair(): Promise<{ stream: AuthorityRepairingStream; client: Socket; close(): void }> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  const client = connect(address.port, "127.0.0.1");
  const [accepted] = (await once(server, "connection")) as [Socket];
  const stream = new AuthorityRepairingStream(accepted);
  return {
    stream,
    client,
    close: () => {
      client.destroy();
      stream.destroy();
      server.close();
    },
  };
}

async function readAll(stream: AuthorityRepairingStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("AuthorityRepairingStream", () => {
  it("keeps what the client sent before it closed, for a reader that comes late", async () => {
    const { stream, client, close } = await pair();
    try {
      const sent = Buffer.concat([CONNECTION_PREFACE, frame(0x0, 0, 1, Buffer.alloc(50_000, 1))]);
      client.end(sent);
      client.resume();
      await once(client, "close");
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await readAll(stream)).equals(sent)).toBe(true);
    } finally {
      close();
    }
  });

  it("pauses the socket while its reader is not reading, and passes server bytes through", async () => {
    const { stream, client, close } = await pair();
    try {
      client.write(CONNECTION_PREFACE);
      const data = frame(0x0, 0, 1, Buffer.alloc(16_384, 2));
      for (let i = 0; i < 400; i++) client.write(data); // ~6.5 MB
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Node buffers one highWaterMark plus the chunk in flight, not the megabytes sent.
      expect(stream.readableLength).toBeLessThan(1024 * 1024);
      let received = 0;
      stream.on("data", (chunk: Buffer) => {
        received += chunk.length;
      });
      while (received < CONNECTION_PREFACE.length + 400 * data.length) await once(stream, "data");
      stream.write(Buffer.from("from the server"));
      const [reply] = (await once(client, "data")) as [Buffer];
      expect(reply.toString()).toBe("from the server");
    } finally {
      close();
    }
  });

  it("destroys itself and the socket on input it cannot follow", async () => {
    const { stream, client, close } = await pair();
    try {
      stream.resume();
      const failed = once(stream, "error");
      client.resume();
      client.write(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
      const [error] = (await failed) as [Error];
      expect(error.name).toBe("Http2InputError");
      await once(client, "close");
    } finally {
      close();
    }
  });
});
