// Measures what the authority repair costs (run `pnpm exec tsc -b` first):
//   node packages/server/test/http2/bench.mjs [seconds=3] [concurrency=32] [rounds=3]
// (rounds=0: the rewriter alone).
// Part 1 feeds a recorded-style client byte stream to the rewriter alone (one thread, no I/O).
// Part 2 serves unary echo calls from a client in a child process through: grpc-js's own listener,
// a plain pass-through Duplex (the cost of handing Node's HTTP/2 a JS stream), and the repairing
// stream with and without a scheme in :authority. Prints numbers only; nothing asserts on timing.
import { fork } from "node:child_process";
import { createServer } from "node:net";
import { Duplex } from "node:stream";
import { Client, credentials, Metadata, Server, ServerCredentials } from "@grpc/grpc-js";
import { AuthorityRepairer, encodeLiteralBlock, listenRepaired } from "../../dist/http2/index.js";

const seconds = Number(process.argv[2] ?? 3);
const concurrency = Number(process.argv[3] ?? 32);
const rounds = Number(process.argv[4] ?? 3);
const identity = (b) => b;
const PATH = "/keyway.bench.Echo/Echo";
const injector = (grpc) => grpc.createConnectionInjector(ServerCredentials.createInsecure());

async function main() {
  for (const indexing of [false, true]) {
    micro("127.0.0.1:2379", indexing);
    micro("http://127.0.0.1:2379", indexing);
  }
  const repaired = (grpc) => listenRepaired(injector(grpc), "127.0.0.1", 0);
  const setups = [
    ["grpc-js bindAsync (baseline)", bindNative, ""],
    ["pass-through Duplex", (grpc) => listenWith(grpc, (s) => new PassThroughSocket(s)), ""],
    ["repairing stream, no repair", repaired, ""],
    ["repairing stream, http:// repaired", repaired, "http://"],
  ];
  if (rounds === 0) return;
  // The setups take turns, round after round, so that load from elsewhere spreads over all of them.
  for (const size of [16, 64 * 1024]) {
    const results = setups.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (const [i, [, listen, scheme]] of setups.entries())
        results[i].push(await macro(size, listen, scheme));
    }
    for (const [i, [name]] of setups.entries()) {
      const best = results[i].reduce((a, b) => (b.callsPerSecond > a.callsPerSecond ? b : a));
      const median = results[i].map((r) => r.callsPerSecond).sort((a, b) => a - b)[Math.floor(rounds / 2)];
      console.log(
        `${name.padEnd(36)} ${String(size).padStart(6)} B: ` +
          `best ${best.callsPerSecond.toFixed(0).padStart(6)} calls/s (p50 ${best.p50Ms.toFixed(2)} ms, p99 ${best.p99Ms.toFixed(2)} ms), median ${median.toFixed(0)} calls/s`,
      );
    }
  }
}

/**
 * The rewriter alone on 20 000 requests (header block + 16-octet message each) in 64 KiB chunks,
 * in two encodings: every field a fresh literal (the worst case), or as grpc-go sends them (the
 * first request indexes its fields, later ones refer to them and send only grpc-timeout anew).
 */
function micro(authority, indexing) {
  const requests = 20_000;
  const parts = [Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1")];
  const fields = [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", "/etcdserverpb.KV/Range"],
    [":authority", authority],
    ["content-type", "application/grpc"],
    ["user-agent", "grpc-go/1.26.0"],
    ["te", "trailers"],
  ].map(([name, value]) => ({ name, value, sensitive: false }));
  const timeout = encodeLiteralBlock([{ name: "grpc-timeout", value: "4999m", sensitive: false }]);
  // Literal with incremental indexing, new name: 0x40, then name and value as raw strings.
  const indexed = Buffer.concat(
    fields.map(({ name, value }) =>
      Buffer.from([0x40, name.length, ...Buffer.from(name), value.length, ...Buffer.from(value)]),
    ),
  );
  // After 7 insertions the newest (te) is 62 and the oldest (:method) 68.
  const references = Buffer.from(fields.map((_, i) => 0x80 | (68 - i)));
  for (let i = 0; i < requests; i++) {
    const streamId = 2 * i + 1;
    const block = !indexing ? encodeLiteralBlock(fields) : i === 0 ? indexed : references;
    parts.push(frame(1, 4, streamId, Buffer.concat([block, timeout])));
    parts.push(frame(0, 1, streamId, Buffer.alloc(21, 1)));
  }
  const input = Buffer.concat(parts);
  const chunks = [];
  for (let i = 0; i < input.length; i += 65_536) chunks.push(input.subarray(i, i + 65_536));
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const repairer = new AuthorityRepairer(() => {});
    const t = process.hrtime.bigint();
    for (const c of chunks) repairer.write(c);
    best = Math.min(best, Number(process.hrtime.bigint() - t));
  }
  console.log(
    `rewriter, ${indexing ? "grpc-go encoding" : "all literals"}, :authority ${authority}: ` +
      `${(best / requests).toFixed(0)} ns/request, ` +
      `${((input.length / best) * 1e3).toFixed(0)} MB/s (${(input.length / 2 ** 20).toFixed(1)} MiB input)`,
  );
}

function frame(type, flags, streamId, payload) {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

/** One timed run of the echo client against a fresh server; returns the client's numbers. */
async function macro(size, listen, scheme) {
  const grpc = new Server();
  grpc.register(PATH, (call, done) => done(null, call.request), identity, identity, "unary");
  const listener = await listen(grpc);
  const args = ["client", String(listener.port), scheme, String(seconds), String(concurrency), String(size)];
  const result = await new Promise((resolve) =>
    fork(new URL(import.meta.url).pathname, args).on("message", resolve),
  );
  grpc.forceShutdown();
  await listener.close();
  return result;
}

async function bindNative(grpc) {
  const port = await new Promise((res, rej) =>
    grpc.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  return { port, close: async () => {} };
}

async function listenWith(grpc, wrap) {
  const inject = injector(grpc);
  const server = createServer({ noDelay: true }, (s) => inject.injectConnection(wrap(s)));
  await new Promise((res) => server.listen(0, "127.0.0.1", res));
  return { port: server.address().port, close: () => new Promise((res) => server.close(res)) };
}

/** The least a JS stream between socket and HTTP/2 server can be. */
class PassThroughSocket extends Duplex {
  constructor(socket) {
    super({ allowHalfOpen: false });
    this.socket = socket;
    socket.on("data", (c) => this.push(c) || socket.pause());
    socket.on("end", () => this.push(null));
    socket.on("close", () => this.destroy());
    socket.on("error", (e) => this.destroy(e));
  }
  _read() {
    this.socket.resume();
  }
  _write(c, _e, cb) {
    if (this.socket.write(c)) cb();
    else this.socket.once("drain", cb);
  }
  _final(cb) {
    this.socket.end();
    cb();
  }
  _destroy(e, cb) {
    this.socket.destroy();
    cb(e);
  }
}

async function client(port, scheme, durationS, inFlight, size) {
  const address = `127.0.0.1:${port}`;
  const c = new Client(address, credentials.createInsecure(), {
    "grpc.default_authority": `${scheme}${address}`,
  });
  const payload = Buffer.alloc(size, 7);
  const once = () =>
    new Promise((res, rej) =>
      c.makeUnaryRequest(PATH, identity, identity, payload, new Metadata(), (e, r) => (e ? rej(e) : res(r))),
    );
  for (let i = 0; i < 200; i++) await once(); // warm-up
  const latencies = [];
  const end = performance.now() + durationS * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await once();
      latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.floor(q * (latencies.length - 1))];
  c.close();
  process.send({ callsPerSecond: latencies.length / elapsedS, p50Ms: at(0.5), p99Ms: at(0.99) });
  process.exit(0);
}

// Last, so that every declaration above is initialised.
if (process.argv[2] === "client")
  await client(
    process.argv[3],
    process.argv[4],
    Number(process.argv[5]),
    Number(process.argv[6]),
    Number(process.argv[7]),
  );
else await main();
