import { connect, constants, type IncomingHttpHeaders } from "node:http2";
import { createServer, type Server as NetServer } from "node:net";
import { Server, ServerCredentials, type ServerUnaryCall } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdServerError } from "../../src/errors.js";
import { DirectUnary } from "../../src/rpc/direct-unary.js";
import { KV_RESPONSES, KV_SERVICE_DEFINITION } from "../../src/rpc/kv.js";
import { unary } from "../../src/rpc/unary.js";

/** Largest message both servers accept. */
const MAX_RECEIVE = 4096;

/** What a Range does, by its key: the differences between the two paths show in these. */
const rangeByKey = unary(
  async (request: etcdserverpb.RangeRequest, call: ServerUnaryCall<unknown, unknown>) => {
    const key = Buffer.from(request.key).toString();
    if (key === "slow") await new Promise((resolve) => setTimeout(resolve, 400));
    if (key === "etcd-error") throw new EtcdServerError("requestTooLarge");
    if (key === "bug") throw new Error("something broke");
    if (key === "peer")
      return etcdserverpb.RangeResponse.fromPartial({ count: BigInt(call.getPeer().length) });
    return etcdserverpb.RangeResponse.fromPartial({ count: BigInt(key.length), more: key === "more" });
  },
);

interface Target {
  port: number;
  close(): Promise<void>;
}

/** A grpc-js server holding KV.Range (nothing else), fed by connection injection as a member's is. */
async function start(direct: boolean): Promise<Target> {
  const grpc = new Server({ "grpc.max_receive_message_length": MAX_RECEIVE });
  const implementation = { range: rangeByKey };
  grpc.addService(KV_SERVICE_DEFINITION, implementation);
  const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
  if (direct) {
    const path = new DirectUnary(MAX_RECEIVE);
    path.add(KV_SERVICE_DEFINITION, implementation, KV_RESPONSES);
    expect(path.attach(grpc)).toBe(true);
  }
  const listener: NetServer = createServer((socket) => injector.injectConnection(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as { port: number };
  return {
    port,
    close: async () => {
      injector.destroy();
      grpc.forceShutdown();
      await new Promise((resolve) => listener.close(resolve));
    },
  };
}

/** Everything a client can see of one call, but the `date` header. */
interface Seen {
  headers: Record<string, unknown>;
  body: string;
  trailers: Record<string, unknown>;
}

function framed(message: Uint8Array, declaredLength = message.length): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([header, message]);
}

function range(key: string): Buffer {
  return framed(
    etcdserverpb.RangeRequest.encode(
      etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from(key) }),
    ).finish(),
  );
}

async function send(port: number, body: Buffer, headers: Record<string, string> = {}): Promise<Seen> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({
      ":method": "POST",
      ":path": "/etcdserverpb.KV/Range",
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    const seen: Seen = { headers: {}, body: "", trailers: {} };
    const without = (h: IncomingHttpHeaders) => {
      const { date: _date, ...rest } = h;
      return rest;
    };
    stream.on("response", (h) => {
      seen.headers = without(h);
    });
    stream.on("trailers", (h) => {
      seen.trailers = without(h);
    });
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.end(body);
    await new Promise<void>((resolve, reject) => {
      stream.on("close", resolve);
      stream.on("error", reject);
    });
    seen.body = Buffer.concat(chunks).toString("hex");
    return seen;
  } finally {
    session.close();
  }
}

describe("unary calls served directly on grpc-js's HTTP/2 sessions", () => {
  let viaGrpcJs: Target;
  let direct: Target;
  beforeAll(async () => {
    viaGrpcJs = await start(false);
    direct = await start(true);
  });
  afterAll(async () => {
    await viaGrpcJs?.close();
    await direct?.close();
  });

  /** Sends the same call to both servers; the client must not be able to tell them apart. */
  async function same(body: Buffer, headers: Record<string, string> = {}): Promise<Seen> {
    const [expected, actual] = await Promise.all([
      send(viaGrpcJs.port, body, headers),
      send(direct.port, body, headers),
    ]);
    expect(actual).toEqual(expected);
    return actual;
  }

  it("answers a call with grpc-js's headers, message and trailers", async () => {
    const seen = await same(range("more"));
    expect(seen.trailers).toMatchObject({ "grpc-status": "0", "grpc-message": "OK" });
    expect(seen.headers).toMatchObject({ ":status": 200, "content-type": "application/grpc+proto" });
    const response = etcdserverpb.RangeResponse.decode(Buffer.from(seen.body, "hex").subarray(5));
    expect(response).toMatchObject({ count: 4n, more: true });
  });

  it("answers a handler's etcd error, and a bug, with grpc-js's status and text", async () => {
    const etcd = await same(range("etcd-error"));
    expect(etcd.headers).toMatchObject({
      "grpc-status": "3",
      "grpc-message": "etcdserver:%20request%20is%20too%20large",
    });
    const bug = await same(range("bug"));
    expect(bug.headers).toMatchObject({ "grpc-status": "2", "grpc-message": "something%20broke" });
  });

  it("ends a call at its grpc-timeout with DEADLINE_EXCEEDED", async () => {
    const seen = await same(range("slow"), { "grpc-timeout": "50m" });
    expect(seen.headers).toMatchObject({ "grpc-status": "4", "grpc-message": "Deadline%20exceeded" });
  });

  it("refuses a message above the maximum, a call with no message or two, and bytes that do not decode", async () => {
    const large = await same(framed(Buffer.alloc(10), MAX_RECEIVE + 1));
    expect(large.headers).toMatchObject({ "grpc-status": "8" });
    const none = await same(Buffer.alloc(0));
    expect(none.headers).toMatchObject({ "grpc-status": "12" });
    const cut = await same(range("cut").subarray(0, 7));
    expect(cut.headers).toMatchObject({ "grpc-status": "12" });
    const two = await same(Buffer.concat([range("a"), range("b")]));
    expect(two.headers).toMatchObject({ "grpc-status": "12" });
    // Field 1 (key) sent as a varint: etcd's decoder, and ours, refuse the wrong wire type.
    const malformed = await same(framed(Buffer.from([0x08, 0x01])));
    expect(malformed.headers).toMatchObject({ "grpc-status": "13" });
  });

  it("leaves to grpc-js what it answers differently: other content types, compression, bad timeouts", async () => {
    const text = await same(range("a"), { "content-type": "text/plain" });
    expect(text.headers).toMatchObject({ ":status": constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE });
    const gzip = await same(range("a"), { "grpc-encoding": "gzip" });
    expect(gzip.headers["grpc-status"] ?? gzip.trailers["grpc-status"]).toBeDefined();
    const badTimeout = await same(range("a"), { "grpc-timeout": "soon" });
    expect(badTimeout.headers).toMatchObject({ "grpc-status": "13" });
  });

  it("refuses, loudly, a handler that reads more of the call than its request", async () => {
    const seen = await send(direct.port, range("peer"));
    expect(seen.headers).toMatchObject({ "grpc-status": "2" });
    expect(decodeURI(String(seen.headers["grpc-message"]))).toBe(
      "/etcdserverpb.KV/Range is served without grpc-js's call object; its handler may read only call.request, not call.getPeer",
    );
  });

  it("survives a client that resets a call before the answer, and serves the next one", async () => {
    const session = connect(`http://127.0.0.1:${direct.port}`);
    const stream = session.request({
      ":method": "POST",
      ":path": "/etcdserverpb.KV/Range",
      "content-type": "application/grpc",
    });
    stream.end(range("slow"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    stream.close(constants.NGHTTP2_CANCEL);
    await new Promise((resolve) => setTimeout(resolve, 500));
    session.close();
    const next = await send(direct.port, range("ok"));
    expect(next.trailers).toMatchObject({ "grpc-status": "0" });
  });
});
