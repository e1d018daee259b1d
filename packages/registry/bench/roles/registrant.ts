/**
 * Registrant process of the convergence bench: one KeywayClient registering `--count` instances of
 * `--service`, each with its own session (a lease per instance, as real instances have), at most
 * `--parallel` registrations at a time. Says `ready` once all are registered; on `close` it tells
 * how often they had to be written again (a sign the run was not in a steady state), deregisters
 * them (revoking their leases) and exits. The driver also kills single-instance
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
    parallel: { type: "string", default: "25" },
  },
});
const count = Number(values.count);
const parallel = Number(values.parallel);
const client = new KeywayClient({ endpoints: [values.endpoint as string] });
const services = registry(client);
const registrations: Registration[] = [];
let reRegistrations = 0;
const causes: Record<string, number> = {};
let errors = 0;
exitWithParent();

/**
 * Registers instance `i`; a first write that fails (e.g. a grant answered after its TTL on a
 * swamped machine) is counted and tried again, up to 5 times.
 */
async function register(i: number): Promise<Registration> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await services.register({
        service: values.service as string,
        instance: { id: `${values["id-prefix"]}${i}`, address: `127.0.0.1:${10_000 + i}` },
        ttlSeconds: Number(values.ttl),
      });
    } catch (err) {
      errors++;
      if (attempt === 5) throw err;
    }
  }
}

for (let start = 0; start < count; start += parallel) {
  const batch = Array.from({ length: Math.min(parallel, count - start) }, (_, i) => register(start + i));
  for (const registration of await Promise.all(batch)) {
    registration.on("registered", ({ cause }) => {
      reRegistrations++;
      causes[cause] = (causes[cause] ?? 0) + 1;
    });
    registration.on("error", () => errors++);
    registrations.push(registration);
  }
}

process.on("message", async (message: Message) => {
  if (message.type !== "close") return;
  tell({ type: "churn", reRegistrations, causes, errors });
  await Promise.all(registrations.map((r) => r.close()));
  await client.close();
  process.exit(0);
});
tell({ type: "ready" });
