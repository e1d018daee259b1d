// A leader-elected worker: every replica campaigns; the leader does the work (here: it logs a beat
// every 500 ms) until it resigns or dies, then the next candidate in line takes over.
// Observers follow the leader without campaigning.
//
//   pnpm build && node examples/election/worker.mjs --endpoint http://127.0.0.1:2379 --replica a
//   node examples/election/worker.mjs --observe          # print each leader change
//
// Options: --endpoint (or KEYWAY_ENDPOINT), --replica <name>, --lead-ms <ms> (resign after leading
// this long, default: lead until stopped), --ttl <seconds> (default 5), --observe.
// Interoperates with `etcdctl elect examples/leader <value>` and Go's concurrency.Election.
import { parseArgs } from "node:util";
import { KeywayClient } from "@keyway/client";
import { LockError, locks } from "@keyway/lock";

const { values } = parseArgs({
  options: {
    endpoint: { type: "string", default: process.env.KEYWAY_ENDPOINT ?? "http://127.0.0.1:2379" },
    replica: { type: "string", default: `pid-${process.pid}` },
    "lead-ms": { type: "string", default: "0" },
    ttl: { type: "string", default: "5" },
    observe: { type: "boolean", default: false },
  },
});
const log = (message) => console.log(`[${values.replica}] ${message}`);
const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

const client = new KeywayClient({ endpoints: [values.endpoint] });
const session = await client.session({ ttlSeconds: Number(values.ttl) });
const election = locks(client).election("examples/leader", { session });
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
process.once("SIGTERM", () => stop.abort());

if (values.observe) {
  log("observing");
  for await (const leader of election.observe({ signal: stop.signal })) log(`leader is ${leader.value}`);
} else {
  try {
    log("campaigning");
    await election.campaign(values.replica, { signal: stop.signal });
    log(`elected (fencing token ${election.fencingToken})`);
    const leadMs = Number(values["lead-ms"]);
    const until = leadMs > 0 ? Date.now() + leadMs : Number.POSITIVE_INFINITY;
    // The leader's work; stop as soon as leadership is lost.
    const lost = election.signal;
    for (let beat = 1; Date.now() < until && !stop.signal.aborted && !lost?.aborted; beat++) {
      log(`working (beat ${beat})`);
      await sleep(Math.min(500, until - Date.now()), stop.signal);
    }
    if (lost?.aborted) log(`lost leadership (${lost.reason.reason})`);
    else log("resigning");
    await election.resign();
  } catch (err) {
    if (!LockError.is(err, "aborted", "lost", "sessionLost")) throw err;
    log(`stopped: ${err.reason}`);
  }
}
await session.close();
await client.close();
log("exit");
