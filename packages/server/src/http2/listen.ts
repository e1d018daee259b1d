import { lookup } from "node:dns/promises";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { ConnectionInjector } from "@grpc/grpc-js";
import type { AuthorityRepairerOptions } from "./authority-repairer.js";
import { Http2InputError } from "./errors.js";
import { EMPTY_SETTINGS_FRAME, FirstRequestSniffer, type SniffRoute } from "./first-request-sniffer.js";
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
  /**
   * How long an HTTP/2 connection may take from its start to send its first header block (and
   * acknowledge the sniffer's SETTINGS); default 10,000 ms. A connection that has sent
   * its first block but not the acknowledgement by then is cut (RFC 9113's SETTINGS_TIMEOUT); one
   * still without a request goes through the repairing stream, which serves any client.
   */
  sniffTimeoutMs?: number;
  /** Told where each connection went once that is decided; for metrics and tests. */
  onRoute?: (route: SniffRoute) => void;
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
 * Listens on `host:port` and injects every accepted HTTP/2 connection into `injector` (from
 * `server.createConnectionInjector(credentials)`): the native socket when its first header block
 * needs no repair, otherwise a stream that repairs `:authority` (see
 * {@link FirstRequestSniffer} and {@link authorityRepairingStream}). Like grpc-js's `bindAsync`, a host name is listened on
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
  const { http1, onRoute } = options;
  const route = (socket: Socket, to: SniffRoute) => {
    onRoute?.(to);
    if (to === "http1" && http1 !== undefined) return http1(socket);
    if (to !== "repair") return injector.injectConnection(socket);
    const stream = authorityRepairingStream(socket, options);
    stream.on("error", (error) => {
      if (error instanceof Http2InputError) onError(error);
    });
    injector.injectConnection(stream);
  };
  const accept = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    sniff(socket, options, (to) => route(socket, to));
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
 * Feeds a new connection to a {@link FirstRequestSniffer} until it decides, then puts the octets
 * read back on the paused socket (the HTTP/2 server and the repairing stream read them first) and
 * calls `decided`. Sends the sniffer's SETTINGS when the client waits for a server preface.
 */
function sniff(socket: Socket, options: ListenRepairedOptions, decided: (route: SniffRoute) => void): void {
  const sniffer = new FirstRequestSniffer(options);
  const finish = (decision: { route: SniffRoute; bytes: Buffer }) => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("error", ignore);
    socket.pause();
    if (decision.bytes.length > 0) socket.unshift(decision.bytes);
    decided(decision.route);
  };
  const onData = (chunk: Buffer) => {
    const decision = sniffer.write(chunk);
    if (decision !== undefined) return finish(decision);
    if (!sniffer.wantsServerSettings) return;
    socket.write(EMPTY_SETTINGS_FRAME);
    sniffer.serverSettingsSent();
  };
  // A connection that has sent nothing, or only part of the preface, just waits (as before).
  const timer = setTimeout(() => {
    if (!sniffer.prefaceComplete) return;
    if (sniffer.acknowledged) finish(sniffer.giveUp());
    else socket.destroy();
  }, options.sniffTimeoutMs ?? 10_000);
  timer.unref();
  // Until someone serves it, a reset of the connection concerns no one (it closes it).
  const ignore = () => {};
  socket.on("error", ignore);
  socket.once("close", () => clearTimeout(timer));
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
