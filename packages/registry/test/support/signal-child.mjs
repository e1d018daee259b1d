// A registered service process for signals.test.ts: registers one instance, installs
// deregisterOnSignals and idles until a signal. Imports the built package (run `tsc -b` first).
// Args: <endpoint> <service> <id> <drainMs> [hook]; prints `registered <key>`.
import { KeywayClient } from "@keyway/client";
import { deregisterOnSignals, registry } from "../../dist/index.js";

const [endpoint, service, id, drainMs, hook] = process.argv.slice(2);
const client = new KeywayClient({ endpoints: [endpoint] });
const registration = await registry(client).register({
  service,
  instance: { id, address: "127.0.0.1:1" },
  ttlSeconds: 30,
});
deregisterOnSignals(registration, {
  drainMs: Number(drainMs),
  ...(hook === "hook"
    ? {
        onDeregistered: async (signal) => {
          console.log(`deregistered on ${signal}`);
          await client.close();
          process.exit(0);
        },
      }
    : {}),
});
setInterval(() => undefined, 60_000);
console.log(`registered ${registration.key}`);
