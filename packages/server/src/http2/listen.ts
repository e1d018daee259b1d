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
}

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
  const accept = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const stream = authorityRepairingStream(socket, options);
    stream.on("error", (error) => {
      if (error instanceof Http2InputError) onError(error);
    });
    injector.injectConnection(stream);
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
