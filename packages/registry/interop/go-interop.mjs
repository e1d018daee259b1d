// Checks the `go-endpoints` layout against etcd's real Go naming code (go-naming/main.go):
// Node-registered grpc-js servers are listed by Go's endpoints.Manager and called through
// grpc-go's `etcd:///` resolver with round_robin; an endpoint Go registers is discovered by
// Node and dropped when the Go process is killed. Run by run-go-interop.sh (after `tsc -b`):
//   node go-interop.mjs <etcd endpoint> <go-naming binary>
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { KeywayClient } from "@keyway/client";
import { registry } from "../dist/index.js";

const [endpoint, goNaming] = process.argv.slice(2);
const run = promisify(execFile);
const go = async (...args) => (await run(goNaming, [endpoint, ...args])).stdout.trim();
const check = (ok, what) => {
  if (!ok) throw new Error(`FAIL: ${what}`);
  console.log(`ok   ${what}`);
};

/** A grpc-js server answering grpc.health.v1.Health/Check with SERVING (raw protobuf bytes). */
async function healthServer() {
  const server = new grpc.Server();
  const raw = {
    requestSerialize: (b) => b,
    requestDeserialize: (b) => b,
    responseSerialize: (b) => b,
    responseDeserialize: (b) => b,
  };
  const check = { path: "/grpc.health.v1.Health/Check", requestStream: false, responseStream: false, ...raw };
  // HealthCheckResponse{status: SERVING} = field 1, varint 1.
  server.addService({ Check: check }, { Check: (_call, done) => done(null, Buffer.from([0x08, 0x01])) });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, address: `127.0.0.1:${port}` };
}

const client = new KeywayClient({ endpoints: [endpoint] });
const services = registry(client, { layout: "go-endpoints" });
const servers = [await healthServer(), await healthServer()];
const registrations = await Promise.all(
  servers.map((s) =>
    services.register({ service: "interop-greeter", instance: { address: s.address }, ttlSeconds: 5 }),
  ),
);

const listed = JSON.parse(await go("list", "interop-greeter"));
check(
  servers.every((s) => listed[`interop-greeter/${s.address}`]?.Addr === s.address),
  `Go endpoints.Manager.List finds both Node instances: ${JSON.stringify(listed)}`,
);

// round_robin spreads calls once both subchannels are ready (the first calls may all go to the
// one that connected first, which WithBlock waited for).
const peers = (await go("dial", "interop-greeter", "20")).split("\n").map((line) => line.split(" ")[0]);
const counts = Object.fromEntries(
  servers.map((s) => [s.address, peers.filter((p) => p === s.address).length]),
);
check(
  Object.values(counts).every((n) => n >= 3) && peers.length === 20,
  `grpc-go etcd:/// round_robin calls both Node servers: ${JSON.stringify(counts)}`,
);

await registrations[0].close();
const after = (await go("dial", "interop-greeter", "4")).split("\n").map((line) => line.split(" ")[0]);
check(
  after.every((p) => p === servers[1].address),
  `after close() grpc-go calls only the other: ${after.join(",")}`,
);

const discovery = services.discover("interop-greeter");
await discovery.ready;
const goServer = spawn(goNaming, [endpoint, "add", "interop-greeter", "127.0.0.1:9", "2"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const [line] = await once(createInterface({ input: goServer.stdout }), "line");
check(line.startsWith("added "), `Go AddEndpoint with a lease: ${line}`);
const deadline = Date.now() + 5000;
while (!discovery.instances().some((i) => i.id === "127.0.0.1:9") && Date.now() < deadline)
  await new Promise((r) => setTimeout(r, 20));
const fromGo = discovery.instances().find((i) => i.id === "127.0.0.1:9");
check(
  fromGo?.address === "127.0.0.1:9" && fromGo.metadata.lang === "go",
  `Node discovers Go's endpoint: ${JSON.stringify(fromGo)}`,
);
const killedAt = Date.now();
goServer.kill("SIGKILL");
await once(discovery, "removed");
check(
  true,
  `Go process killed with SIGKILL: its endpoint left Node's discovery after ${Date.now() - killedAt} ms (TTL 2 s)`,
);

await discovery.close();
await registrations[1].close();
await client.close();
for (const s of servers) s.server.forceShutdown();
console.log("go-endpoints interop: all checks passed");
