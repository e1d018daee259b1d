/**
 * Registrant process of the convergence bench: one KeywayClient registering `--count` instances of
 * `--service`, each with its own session (a lease per instance, as real instances have), at most
 * `--parallel` registrations at a time. Says `ready` once all are registered; on `close` it
 * deregisters them (revoking their leases) and exits. The driver also kills single-instance
 * registrants with SIGKILL to time lease expiry.
 */
import { parseArgs } from "node:util";
import { KeywayClient } from "@keyway/client";
import { type Registration, registry } from "@keyway/registry";
import { exitWithParent, type Message, tell } from "./protocol.js";

const { values } = parseArgs({
  options: {
    endpoint: { type: "string" },
    service: { type: "string" },
    "id-prefix": { type: "string" },
    count: { type: "string", default: "1" },
    ttl: { type: "string", default: "10" },
    parallel: { type: "string", default: "50" },
  },
});
const count = Number(values.count);
const parallel = Number(values.parallel);
const client = new KeywayClient({ endpoints: [values.endpoint as string] });
const services = registry(client);
const registrations: Registration[] = [];
exitWithParent();

for (let start = 0; start < count; start += parallel) {
  const batch = Array.from({ length: Math.min(parallel, count - start) }, (_, i) =>
    services.register({
      service: values.service as string,
      instance: { id: `${values["id-prefix"]}${start + i}`, address: `127.0.0.1:${10_000 + start + i}` },
      ttlSeconds: Number(values.ttl),
    }),
  );
  registrations.push(...(await Promise.all(batch)));
}

process.on("message", async (message: Message) => {
  if (message.type !== "close") return;
  await Promise.all(registrations.map((r) => r.close()));
  await client.close();
  process.exit(0);
});
tell({ type: "ready" });
