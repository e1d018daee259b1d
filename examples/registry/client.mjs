// A client of both example services: a plain grpc-js client on `keyway:///greeter` (the
// registry's resolver and load-balancing policy do the balancing), and HTTP calls to `hello`
// through `discover().pick()`. Prints who answered each call, and instances coming and going.
//
//   pnpm build && node examples/registry/client.mjs --endpoint http://127.0.0.1:2379
//
// Options: --endpoint (or KEYWAY_ENDPOINT), --interval-ms <ms> between calls (default 200),
// --calls <n> per service (default: until SIGINT/SIGTERM).
import { parseArgs } from "node:util";
import { credentials, Metadata } from "@grpc/grpc-js";
import { KeywayClient } from "@keyway/client";
import { registry } from "@keyway/registry";
import { useKeywayResolver } from "@keyway/registry/grpc";
import { GreeterClient } from "./greeter-api.mjs";

const { values } = parseArgs({
  options: {
    endpoint: { type: "string", default: process.env.KEYWAY_ENDPOINT ?? "http://127.0.0.1:2379" },
    "interval-ms": { type: "string", default: "200" },
    calls: { type: "string", default: "0" },
  },
});
const intervalMs = Number(values["interval-ms"]);
const calls = Number(values.calls) || Number.POSITIVE_INFINITY;
const log = (message) => console.log(`[client] ${message}`);
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => stop.abort());
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const client = new KeywayClient({ endpoints: [values.endpoint] });
const services = registry(client);

// Print instances as they come and go (the balancing below does not need this).
const watched = ["greeter", "hello"].map((service) => {
  const discovery = services.discover(service);
  discovery.on("added", (i) => log(`${service} + ${i.id}`));
  discovery.on("removed", (i) => log(`${service} - ${i.id}`));
  discovery.on("updated", (i) => log(`${service} ~ ${i.id} (${i.status})`));
  return discovery;
});

// gRPC: one line of setup, then a plain grpc-js client.
const resolver = useKeywayResolver(services);
const greeter = new GreeterClient("keyway:///greeter", credentials.createInsecure());
const hello = (name) =>
  new Promise((resolve, reject) =>
    greeter.hello(
      { name },
      new Metadata({ waitForReady: true }), // wait while no instance is up instead of failing
      { deadline: Date.now() + 3000 },
      (err, reply) => (err ? reject(err) : resolve(reply)),
    ),
  );

async function callGreeter() {
  for (let n = 0; n < calls && !stop.signal.aborted; n++) {
    try {
      const reply = await hello(`call ${n}`);
      log(`greeter <- ${reply.instance}`);
    } catch (err) {
      log(`greeter failed: ${err.message}`);
    }
    await sleep(intervalMs);
  }
}

// HTTP: pick an instance, call it, report the outcome (failures feed the down-instance policy).
const helloService = services.discover("hello", {
  picker: "round-robin",
  downPolicy: { failures: 1, downForMs: 5000 },
});
async function callHello() {
  await helloService.ready;
  for (let n = 0; n < calls && !stop.signal.aborted; n++) {
    const picked = helloService.pick();
    if (picked === undefined) log("hello: no instance up");
    else {
      try {
        const res = await fetch(`http://${picked.instance.address}:${picked.instance.ports.http}/`, {
          signal: AbortSignal.timeout(1000),
        });
        const body = await res.json();
        picked.report({ ok: res.ok });
        log(`hello <- ${body.instance}`);
      } catch (err) {
        picked.report({ ok: false });
        log(`hello failed on ${picked.instance.id}: ${err.cause?.code ?? err.message}`);
      }
    }
    await sleep(intervalMs);
  }
}

await Promise.all([callGreeter(), callHello()]);
greeter.close();
await Promise.all([...watched, helloService].map((d) => d.close()));
await resolver.close();
await client.close();
log("exit");
