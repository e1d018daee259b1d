import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import type { Registry } from "prom-client";

/**
 * The HTTP/1.1 side of the client port (etcd serves both on one port through cmux): `GET
 * /metrics` in Prometheus text format with etcd's metric names, and `GET /health` as etcd 3.4
 * answers it on a healthy member. Connections arrive already accepted (see listenRepaired's
 * `http1` option).
 */
export function statusServer(registry: Registry): { server: Server; accept: (socket: Socket) => void } {
  const server = createServer((request, response) => {
    const path = request.url?.split("?")[0];
    if (request.method !== "GET") {
      response.writeHead(405).end();
    } else if (path === "/metrics") {
      registry.metrics().then(
        (text) => response.writeHead(200, { "Content-Type": registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    } else if (path === "/health") {
      response.writeHead(200, { "Content-Type": "application/json" }).end('{"health":"true"}');
    } else {
      response.writeHead(404).end("404 page not found\n");
    }
  });
  return {
    server,
    accept: (socket) => {
      server.emit("connection", socket);
      socket.resume();
    },
  };
}
