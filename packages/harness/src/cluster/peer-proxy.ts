import { createConnection, createServer, type Server, type Socket } from "node:net";
import { helloSender } from "@keyway/server";

/** Longest request head the proxy reads to learn who dialed (etcd's peer requests are far smaller). */
const MAX_HEAD_BYTES = 16 * 1024;

/** One proxied connection: `down` dialed the proxy, `up` is the proxy's connection to the member. */
interface Link {
  readonly down: Socket;
  up: Socket | undefined;
  /** The dialing member's id (hex) from its `X-Server-From` header; undefined until read. */
  from: string | undefined;
  /** Black-holed: bytes in both directions are discarded until the link is destroyed on heal. */
  dropped: boolean;
}

/**
 * A TCP proxy in front of one member's peer port, for process mode (no network namespaces).
 * All peers dial the member through it, so a member cannot tell which peer dialed from the
 * address; instead the proxy reads the dialer's member id from the start of each connection:
 * Keyway's hello frame, or etcd's `X-Server-From` in the first HTTP request (etcd's peer
 * transport names itself on every stream, pipeline and snapshot request, and a connection
 * carries one sender's requests only).
 *
 * Dropping a peer black-holes its connections (the bytes vanish; TCP stays up, as with a DROP rule),
 * so calls time out instead of failing fast. Healing destroys the black-holed connections, and the
 * peers dial again.
 */
export class PeerProxy {
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private readonly blocked = new Set<string>();

  private constructor(
    server: Server,
    private readonly targetPort: number,
  ) {
    this.server = server;
  }

  /** Listens on 127.0.0.1:`listenPort` and forwards to 127.0.0.1:`targetPort`. */
  static async start(listenPort: number, targetPort: number): Promise<PeerProxy> {
    const server = createServer();
    const proxy = new PeerProxy(server, targetPort);
    server.on("connection", (socket) => proxy.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listenPort, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  /** Black-holes every connection from the member with this id (hex), now and until {@link heal}. */
  drop(memberIdHex: string): void {
    this.blocked.add(memberIdHex);
    for (const link of this.links) if (link.from === memberIdHex) link.dropped = true;
  }

  /** Lifts every drop and destroys the black-holed connections (their streams lost bytes). */
  heal(): void {
    this.blocked.clear();
    for (const link of this.links) if (link.dropped) this.destroy(link);
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const link of this.links) this.destroy(link);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(down: Socket): void {
    const link: Link = { down, up: undefined, from: undefined, dropped: false };
    this.links.add(link);
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const keyway = helloSender(head);
      if (keyway === "incomplete") return;
      const end = head.indexOf("\r\n\r\n");
      if (keyway === undefined && end < 0 && head.length < MAX_HEAD_BYTES) return;
      down.off("data", onHead);
      if (keyway !== undefined) link.from = keyway.toString(16);
      else {
        const match = /\r\nx-server-from:\s*([0-9a-f]+)\r\n/i.exec(
          head.subarray(0, end < 0 ? head.length : end + 2).toString("latin1"),
        );
        link.from = match?.[1];
      }
      link.dropped = link.from !== undefined && this.blocked.has(link.from);
      this.connectUp(link, head);
    };
    down.on("data", onHead);
    down.on("error", () => this.destroy(link));
    down.on("close", () => this.destroy(link));
  }

  private connectUp(link: Link, head: Buffer): void {
    const up = createConnection({ host: "127.0.0.1", port: this.targetPort });
    link.up = up;
    if (!link.dropped) up.write(head);
    // Writes ignore backpressure on purpose: peer traffic of a test cluster is small, and a pipe()
    // could not discard bytes while the link is dropped.
    link.down.on("data", (chunk: Buffer) => {
      if (!link.dropped) up.write(chunk);
    });
    up.on("data", (chunk: Buffer) => {
      if (!link.dropped) link.down.write(chunk);
    });
    up.on("error", () => this.destroy(link));
    up.on("close", () => this.destroy(link));
  }

  private destroy(link: Link): void {
    if (!this.links.delete(link)) return;
    link.down.destroy();
    link.up?.destroy();
  }
}
