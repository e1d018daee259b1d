import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { AuthorityRepairer, type AuthorityRepairerOptions } from "./authority-repairer.js";

/**
 * A client connection as the HTTP/2 server should see it: what the client sends goes through an
 * {@link AuthorityRepairer}, what the server sends goes to the socket untouched. Flow control
 * follows the consumer (the socket pauses while the server's side is full). Input the repairer
 * cannot follow destroys this stream and the socket with it. The socket's addresses are exposed
 * under the names `net.Socket` uses, so peers in logs and channelz stay right.
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
    socket.on("end", () => this.push(null));
    socket.on("error", (error) => this.destroy(error));
    socket.on("close", () => this.destroy());
  }

  /** How many header blocks had their `:authority` repaired on this connection. */
  get repairs(): number {
    return this.repairer.repairs;
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  get remoteFamily(): string | undefined {
    return this.socket.remoteFamily;
  }

  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  /** Forwards to the socket (the HTTP/2 server sets idle timeouts through it). */
  setTimeout(timeoutMs: number, callback?: () => void): this {
    this.socket.setTimeout(timeoutMs, callback);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelayMs?: number): this {
    this.socket.setKeepAlive(enable, initialDelayMs);
    return this;
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
