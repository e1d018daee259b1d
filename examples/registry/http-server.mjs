// An HTTP service instance that registers itself: `GET /` answers `{ "instance": <id> }`, and
// it registers as an instance of `hello` with its `http` port. SIGTERM/SIGINT deregister it at
// once; kill -9 leaves it registered until its lease's TTL runs out.
//
//   pnpm build && node examples/registry/http-server.mjs --endpoint http://127.0.0.1:2379 --id h1
//
// Options: --endpoint (or KEYWAY_ENDPOINT), --id <instance id>, --port <n> (default: any free),
// --ttl <seconds> (default 5).
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { KeywayClient } from "@keyway/client";
import { deregisterOnSignals, registry } from "@keyway/registry";

const { values } = parseArgs({
  options: {
    endpoint: { type: "string", default: process.env.KEYWAY_ENDPOINT ?? "http://127.0.0.1:2379" },
    id: { type: "string", default: `hello-${process.pid}` },
    port: { type: "string", default: "0" },
    ttl: { type: "string", default: "5" },
  },
});
const log = (message) => console.log(`[${values.id}] ${message}`);

const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ instance: values.id }));
});
await new Promise((resolve) => server.listen(Number(values.port), "127.0.0.1", resolve));
const { port } = server.address();

const client = new KeywayClient({ endpoints: [values.endpoint] });
const registration = await registry(client).register({
  service: "hello",
  instance: { id: values.id, address: "127.0.0.1", ports: { http: port } },
  ttlSeconds: Number(values.ttl),
});
// Deregister, then let the signal end the process as it would have.
deregisterOnSignals(registration);
log(`serving hello on http://127.0.0.1:${port}`);
