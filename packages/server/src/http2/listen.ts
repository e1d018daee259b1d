import { createServer, type Socket } from "node:net";
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
 * Listens on `host:port` (port 0 picks a free one; an IPv6 host may come bracketed, as in URLs)
 * and injects every accepted connection into `injector` (from
 * `server.createConnectionInjector(credentials)`) through a stream that repairs `:authority`
 * (see {@link authorityRepairingStream}). The repairer's limits must match the grpc-js server's
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
  // Nagle off: gRPC messages are small and latency-bound.
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const stream = authorityRepairingStream(socket, options);
    stream.on("error", (error) => {
      if (error instanceof Http2InputError) onError(error);
    });
    injector.injectConnection(stream);
  });
  // A URL's hostname keeps IPv6 brackets ("[::1]"); the socket API wants them off.
  const bareHost = host.replace(/^\[(.*)\]$/, "$1");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, bareHost, () => {
      server.off("error", reject);
      server.on("error", onError);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error(`${host}:${port}: not a TCP listener`);
  let closing: Promise<void> | undefined;
  const close = (graceMs = 0) => {
    closing ??= new Promise<void>((resolve) => {
      const cut = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      // The callback runs once the listener is closed and every connection has ended.
      server.close(() => {
        clearTimeout(cut);
        resolve();
      });
    });
    return closing;
  };
  return { port: address.port, close, [Symbol.asyncDispose]: () => close() };
}
