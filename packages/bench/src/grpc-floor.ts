#!/usr/bin/env node
/**
 * The floor of the Node gRPC stack: a server that answers etcd's KV.Put and KV.Range with a fixed
 * response and stores nothing, on grpc-js (as Keyway serves) or straight on node:http2 (the
 * gRPC framing done by hand, unary calls only). Run etcd's benchmark tool against it to see what
 * the stack alone costs per call, apart from Keyway's storage and apply.
 * Usage: `node packages/bench/dist/grpc-floor.js <grpc-js|http2> <port>`; SIGTERM stops it.
 */
import { createServer, type ServerHttp2Stream } from "node:http2";
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";

const header = { clusterId: 1n, memberId: 2n, revision: 3n, raftTerm: 4n };
const PUT = etcdserverpb.PutResponse.fromPartial({ header });
const RANGE = etcdserverpb.RangeResponse.fromPartial({ header, count: 0n });

function serveGrpcJs(port: number): void {
  const server = new Server({ "grpc.enable_channelz": 0, "grpc.max_concurrent_streams": 10_000 });
  const reply =
    <T>(response: T) =>
    (_call: ServerUnaryCall<unknown, T>, callback: sendUnaryData<T>) =>
      callback(null, response);
  server.addService(etcdserverpb.KVService, { put: reply(PUT), range: reply(RANGE) });
  server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error) => {
    if (error) throw error;
  });
  process.once("SIGTERM", () => server.forceShutdown());
}

/** A gRPC message frame: uncompressed flag, 32-bit length, the message. */
function framed(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

function serveHttp2(port: number): void {
  const responses: Record<string, Buffer> = {
    "/etcdserverpb.KV/Put": framed(etcdserverpb.PutResponse.encode(PUT).finish()),
    "/etcdserverpb.KV/Range": framed(etcdserverpb.RangeResponse.encode(RANGE).finish()),
  };
  const server = createServer({ settings: { maxConcurrentStreams: 10_000 } });
  server.on("stream", (stream: ServerHttp2Stream, headers) => {
    const body = responses[headers[":path"] ?? ""];
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      // Decode the request as a real server would.
      const request = Buffer.concat(chunks);
      if (headers[":path"] === "/etcdserverpb.KV/Put") etcdserverpb.PutRequest.decode(request.subarray(5));
      if (body === undefined) {
        stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12" });
        stream.end();
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "grpc-message": "" }));
      stream.end(body);
    });
    stream.on("error", () => {});
  });
  server.listen(port, "127.0.0.1");
  process.once("SIGTERM", () => {
    server.close();
    process.exit(0);
  });
}

const [stack, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || (stack !== "grpc-js" && stack !== "http2")) {
  console.error("usage: grpc-floor <grpc-js|http2> <port>");
  process.exit(2);
}
if (stack === "grpc-js") serveGrpcJs(port);
else serveHttp2(port);
