// A job that must run once at a time across replicas (a nightly report, a migration, a cleanup).
// Start it on several machines; each replica waits its turn for the lock, runs the job, and
// releases it. Kill the replica running the job (even with kill -9) and the next one takes over
// once the dead one's session lease expires (--ttl seconds).
//
//   pnpm build && node examples/lock/job.mjs --endpoint http://127.0.0.1:2379 --replica a
//
// Options: --endpoint (or KEYWAY_ENDPOINT), --replica <name>, --runs <n> (default: forever),
// --work-ms <ms> (how long one run takes, default 2000), --ttl <seconds> (default 5).
import { parseArgs } from "node:util";
import { KeywayClient, op } from "@keyway/client";
import { LockError, locks } from "@keyway/lock";

const { values } = parseArgs({
  options: {
    endpoint: { type: "string", default: process.env.KEYWAY_ENDPOINT ?? "http://127.0.0.1:2379" },
    replica: { type: "string", default: `pid-${process.pid}` },
    runs: { type: "string", default: "0" },
    "work-ms": { type: "string", default: "2000" },
    ttl: { type: "string", default: "5" },
  },
});
const runs = Number(values.runs);
const workMs = Number(values["work-ms"]);
const log = (message) => console.log(`[${values.replica}] ${message}`);

const client = new KeywayClient({ endpoints: [values.endpoint] });
const session = await client.session({ ttlSeconds: Number(values.ttl) });
const job = locks(client).mutex("examples/jobs/report", { session });
job.on("waiting", () => log("waiting for the lock"));

/** The job itself: work in steps, stop at once if the lock is lost, fence the final write. */
async function runJob(signal, hold) {
  log(`running (fencing token ${hold.fencingToken})`);
  const steps = 10;
  for (let step = 0; step < steps; step++) {
    signal.throwIfAborted(); // lost the lock: another replica may be running now
    await new Promise((resolve) => setTimeout(resolve, workMs / steps));
  }
  // The result is written only if we still hold the lock, whatever happened meanwhile.
  const result = JSON.stringify({
    replica: values.replica,
    token: String(hold.fencingToken),
    at: Date.now(),
  });
  const { succeeded } = await client
    .txn()
    .if(hold.isOwner())
    .then(op.put("examples/jobs/report-result", result))
    .commit();
  log(succeeded ? "finished" : "finished too late: result refused (lock lost)");
}

const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
process.once("SIGTERM", () => stop.abort());
for (let run = 0; (runs === 0 || run < runs) && !stop.signal.aborted; run++) {
  try {
    await job.withLock(runJob, { signal: stop.signal });
  } catch (err) {
    if (LockError.is(err, "aborted")) break;
    if (!LockError.is(err, "lost", "sessionLost")) throw err;
    log(`lost the lock (${err.reason}); giving up`);
    process.exitCode = 1;
    break;
  }
}
await session.close();
await client.close();
log("exit");
