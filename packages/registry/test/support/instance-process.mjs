// A service instance process for the fault tests: registers itself, prints one JSON line
// {"registered": key, "leaseId": "..."} and stays up until killed. Run with node after `tsc -b`
// (it imports the built package). Config: env INSTANCE (JSON: endpoints, service, id, ttlSeconds).
import { KeywayClient } from "@keyway/client";
import { registry } from "../../dist/index.js";

const { endpoints, service, id, ttlSeconds } = JSON.parse(process.env.INSTANCE ?? "{}");
const client = new KeywayClient({ endpoints });
const registration = await registry(client).register({
  service,
  instance: { id, address: `127.0.0.1:${process.pid}` },
  ttlSeconds,
});
console.log(JSON.stringify({ registered: registration.key, leaseId: String(registration.leaseId) }));
// Keep the process (and its keep-alive) running until a signal ends it.
setInterval(() => undefined, 60_000);
