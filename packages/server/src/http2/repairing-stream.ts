import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { AuthorityRepairer, type AuthorityRepairerOptions } from "./authority-repairer.js";

/**
 * A client connection as the HTTP/2 server should see it: what the client sends goes through an
 * {@link AuthorityRepairer}, what the server sends goes to the socket untouched. Flow control
 * follows the consumer (the socket pauses while the server's side is full). Input the repairer
 * cannot follow destroys this stream and the socket with it.
 *
 * Node's HTTP/2 wraps a stream that is not a native socket in its JS stream adapter, so the
 * session's `socket` has no addresses: grpc-js reports the peer of such calls as "unknown".
 */
export class AuthorityRepairingStream extends Duplex {
  private readonly repairer: AuthorityRepairer;

  constructor(
    private readonly socket: Socket,
    options: AuthorityRepairerOptions = {},
  ) {
    super({ allowHalfOpen: false });
    this.repairer = new AuthorityRepairer((chunk) => {
      if (!this.push(chunk)) socket.pause();
    }, options);
    socket.on("data", (chunk: Buffer) => {
      try {
        this.repairer.write(chunk);
      } catch (error) {
        this.destroy(error as Error);
      }
    });
    let ended = false;
    socket.on("end", () => {
      ended = true;
      this.push(null);
    });
    socket.on("error", (error) => this.destroy(error));
    // After a clean end the server still gets to read what was pushed before it; otherwise cut.
    socket.on("close", () => {
      if (!ended) this.destroy();
    });
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.write(chunk)) callback();
    else this.socket.once("drain", () => callback());
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.socket.cork();
    let flowing = true;
    for (const { chunk } of chunks) flowing = this.socket.write(chunk);
    this.socket.uncork();
    if (flowing) callback();
    else this.socket.once("drain", () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}

/**
 * Wraps an accepted client socket for an HTTP/2 (grpc-js) server so that `:authority` values
 * carrying a URL scheme (as grpc-go sends for etcdctl's per-endpoint calls) are repaired before
 * the server parses them. Hand the result to `injector.injectConnection`.
 */
export function authorityRepairingStream(
  socket: Socket,
  options: AuthorityRepairerOptions = {},
): AuthorityRepairingStream {
  return new AuthorityRepairingStream(socket, options);
}
