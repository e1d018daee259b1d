// A gRPC service instance that registers itself: it serves `Greeter/Hello` on a loopback port
// and registers as an instance of `greeter` with that port as its `grpc` port. On SIGTERM or
// SIGINT it marks itself draining, waits, deregisters (revokes) and shuts down gracefully; on
// kill -9 its registration disappears when its lease's TTL runs out.
//
//   pnpm build && node examples/registry/greeter-server.mjs --endpoint http://127.0.0.1:2379 --id g1
//
// Options: --endpoint (or KEYWAY_ENDPOINT), --id <instance id>, --port <n> (default: any free),
// --ttl <seconds> (default 5), --weight <n> (default 1).
import { parseArgs } from "node:util";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { KeywayClient } from "@keyway/client";
import { deregisterOnSignals, registry } from "@keyway/registry";
import { greeterService } from "./greeter-api.mjs";

const { values } = parseArgs({
  options: {
    endpoint: { type: "string", default: process.env.KEYWAY_ENDPOINT ?? "http://127.0.0.1:2379" },
    id: { type: "string", default: `greeter-${process.pid}` },
    port: { type: "string", default: "0" },
    ttl: { type: "string", default: "5" },
    weight: { type: "string", default: "1" },
  },
});
const log = (message) => console.log(`[${values.id}] ${message}`);

const server = new Server();
server.addService(greeterService, {
  hello: (call, callback) => callback(null, { message: `hello ${call.request.name}`, instance: values.id }),
});
const port = await new Promise((resolve, reject) =>
  server.bindAsync(`127.0.0.1:${values.port}`, ServerCredentials.createInsecure(), (err, bound) =>
    err ? reject(err) : resolve(bound),
  ),
);

const client = new KeywayClient({ endpoints: [values.endpoint] });
const registration = await registry(client).register({
  service: "greeter",
  instance: { id: values.id, address: "127.0.0.1", ports: { grpc: port }, weight: Number(values.weight) },
  ttlSeconds: Number(values.ttl),
});
registration.on("registered", ({ cause }) => cause !== "start" && log(`registered again (${cause})`));
deregisterOnSignals(registration, {
  drainMs: 300,
  onDeregistered: async (signal) => {
    log(`deregistered on ${signal}`);
    await new Promise((resolve) => server.tryShutdown(resolve));
    await client.close();
    process.exit(0);
  },
});
log(`serving greeter on 127.0.0.1:${port}`);
