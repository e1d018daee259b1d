import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "../../../../test/support/ports.js";

/**
 * A small TCP proxy on loopback for fault tests: it can cut every open connection (the client
 * sees the stream break, as after a crash or a partition), stall them (a member that goes silent
 * without closing anything) and delay traffic to make an endpoint slow.
 */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>` of the proxy. */
  readonly url: string;
  /** Destroys every open connection; new ones are accepted again at once. */
  cut(): void;
  /** While true, new connections are refused and open ones cut. */
  setDown(down: boolean): void;
  /**
   * While true, open connections are cut and new ones are accepted but never answered, like a
   * partitioned host: the client's TCP connect succeeds and then nothing happens.
   */
  setBlackhole(on: boolean): void;
  /**
   * While true, nothing is forwarded in either direction: open connections stay open but silent
   * (bytes wait in the socket buffers, as behind a dead link), and new connections are accepted
   * and held the same way. Turning it off delivers what waited, in order.
   */
  setStall(on: boolean): void;
  /** Delays each chunk from the server to the client by `ms`. */
  setDelay(ms: number): void;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Starts a proxy forwarding to `target` (`http://host:port`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let delayMs = 0;
  let down = false;
  let blackhole = false;
  let stalled = false;
  const pairs = new Set<[Socket, Socket]>();
  let connections = 0;
  const server: Server = createServer((client) => {
    if (down) return void client.destroy();
    if (blackhole) {
      sockets.add(client);
      client.on("close", () => sockets.delete(client));
      client.on("error", () => undefined);
      client.resume();
      return;
    }
    connections++;
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => {
      client.destroy();
      pairs.delete(pair);
    });
    client.on("data", (chunk: Buffer) => upstream.write(chunk));
    upstream.on("data", (chunk: Buffer) => {
      if (delayMs === 0) client.write(chunk);
      else setTimeout(() => client.writable && client.write(chunk), delayMs);
    });
    // Paused sockets stop reading: the sender's bytes pile up in kernel buffers, as on a dead link.
    if (stalled) for (const s of pair) s.pause();
  });
  const listenPort = await freePort();
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${listenPort}`,
    cut,
    setDown(value) {
      down = value;
      if (down) cut();
    },
    setBlackhole(on) {
      blackhole = on;
      if (on) cut();
    },
    setStall(on) {
      stalled = on;
      for (const pair of pairs) {
        for (const s of pair) {
          if (on) s.pause();
          else s.resume();
        }
      }
    },
    setDelay(ms) {
      delayMs = ms;
    },
    get connections() {
      return connections;
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
