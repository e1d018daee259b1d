import { lookup } from "node:dns/promises";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { ConnectionInjector } from "@grpc/grpc-js";
import type { AuthorityRepairerOptions } from "./authority-repairer.js";
import { Http2InputError } from "./errors.js";
import { authorityRepairingStream } from "./repairing-stream.js";

/** Options of {@link listenRepaired}: the repairer's limits, and where errors go. */
export interface ListenRepairedOptions extends AuthorityRepairerOptions {
  /**
   * Called with errors of the listener once it is bound (failed accepts) and with the
   * {@link Http2InputError} that made a connection be cut; for logs. Default: ignored, so that
   * neither can bring the process down. Client resets and the like are not reported.
   */
  onError?: (error: Error) => void;
  /**
   * Takes the connections that do not start with the HTTP/2 preface (HTTP/1.1: `/metrics`,
   * `/health`), as etcd's cmux does; default: every connection is HTTP/2.
   */
  http1?: (socket: Socket) => void;
}

/** The first octets of the HTTP/2 client connection preface ("PRI * HTTP/2.0..."). */
const HTTP2_START = Buffer.from("PRI ");

/** A TCP listener feeding a grpc-js server through {@link authorityRepairingStream}. */
export interface RepairedListener extends AsyncDisposable {
  /** The port actually bound (useful when 0 was asked for). */
  readonly port: number;
  /**
   * Stops accepting at once; destroys the connections still open after `graceMs` (default 0);
   * resolves when every connection has ended. For a graceful stop, call it with the grace period,
   * then shut the grpc-js server down (tryShutdown, forceShutdown on timeout), which ends the
   * injected connections, so it resolves as soon as they are gone.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Listens on `host:port` and injects every accepted connection into `injector` (from
 * `server.createConnectionInjector(credentials)`) through a stream that repairs `:authority`
 * (see {@link authorityRepairingStream}). Like grpc-js's `bindAsync`, a host name is listened on
 * at every address it resolves to, all on one port (port 0: the first address picks it); an IPv6
 * host may come bracketed, as in URLs. The repairer's limits must match the grpc-js server's
 * HTTP/2 settings; the defaults do.
 */
export async function listenRepaired(
  injector: ConnectionInjector,
  host: string,
  port: number,
  options: ListenRepairedOptions = {},
): Promise<RepairedListener> {
  const onError = options.onError ?? (() => {});
  const sockets = new Set<Socket>();
  const acceptHttp2 = (socket: Socket) => {
    const stream = authorityRepairingStream(socket, options);
    stream.on("error", (error) => {
      if (error instanceof Http2InputError) onError(error);
    });
    injector.injectConnection(stream);
  };
  const { http1 } = options;
  const accept = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (http1 === undefined) acceptHttp2(socket);
    else sniffHttp2(socket, (isHttp2) => (isHttp2 ? acceptHttp2(socket) : http1(socket)));
  };
  const addresses = await lookup(host.replace(/^\[(.*)\]$/, "$1"), { all: true });
  const servers: Server[] = [];
  let boundPort = port;
  try {
    for (const { address } of addresses) {
      const server = await bind(address, boundPort, accept, onError);
      servers.push(server);
      boundPort = (server.address() as AddressInfo).port;
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = (graceMs = 0) => {
    closing ??= (async () => {
      const cut = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      // Each callback runs once its listener is closed and every connection it accepted has ended.
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
      clearTimeout(cut);
    })();
    return closing;
  };
  return { port: boundPort, close, [Symbol.asyncDispose]: () => close() };
}

/**
 * Reads the first octets of a connection, puts them back, and tells whether it speaks HTTP/2
 * with prior knowledge (gRPC) or something else (HTTP/1.1).
 */
function sniffHttp2(socket: Socket, decide: (isHttp2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const head = seen.subarray(0, HTTP2_START.length);
    if (head.length < HTTP2_START.length && HTTP2_START.subarray(0, head.length).equals(head)) return;
    socket.off("data", onData);
    socket.pause();
    socket.unshift(seen);
    decide(head.equals(HTTP2_START));
  };
  socket.on("data", onData);
}

/** One TCP listener; after it is bound, its errors (failed accepts) go to `onError`. */
async function bind(
  address: string,
  port: number,
  accept: (socket: Socket) => void,
  onError: (error: Error) => void,
): Promise<Server> {
  // Nagle off: gRPC messages are small and latency-bound.
  const server = createServer({ noDelay: true }, accept);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
      server.off("error", reject);
      server.on("error", onError);
      resolve();
    });
  });
  return server;
}
