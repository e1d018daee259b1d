// A locker process for the safety test: takes the mutex `NAME` ITERATIONS times; in each turn it
// writes the guarded resource twice (guarded by the fencing compare), pausing in between, and
// prints one JSON line per step. The second write deliberately ignores the hold's signal: it
// models a paused process that has not noticed its loss, which only the fencing compare can stop.
// Run with node after `tsc -b` (it imports the built package). Config: env WORKER (JSON).
import { KeywayClient, KeywayError, op } from "@keyway/client";
import { LockError, locks } from "../../dist/index.js";

const config = JSON.parse(process.env.WORKER ?? "{}");
const { endpoint, name, resource, id, iterations, ttlSeconds, seed, holdMs } = config;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
function rng(state) {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(seed);
const say = (event) => process.stdout.write(`${JSON.stringify({ id, ...event })}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const client = new KeywayClient({ endpoints: [endpoint], connectTimeoutMs: 500 });

/** A guarded write, retried while the endpoint cannot be reached (nothing was applied then). */
async function guardedWrite(hold, n) {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const value = JSON.stringify({ id, token: hold.fencingToken.toString(), n });
      const r = await client
        .txn()
        .if(hold.isOwner())
        .then(op.put(resource, value))
        .commit({ timeoutMs: 2_000 });
      return r.succeeded;
    } catch (err) {
      if (!KeywayError.is(err, "unavailable", "timeout")) throw err;
      await sleep(100);
    }
  }
  throw new Error("resource unreachable");
}

async function newSession() {
  for (;;) {
    try {
      return await client.session({ ttlSeconds });
    } catch (err) {
      if (!KeywayError.is(err, "unavailable", "timeout")) throw err;
      await sleep(100);
    }
  }
}

let session = await newSession();
for (let i = 0; i < iterations; i++) {
  let hold;
  try {
    hold = await locks(client).mutex(name, { session }).lock();
  } catch (err) {
    // Lost while waiting (e.g. stalled): start over with a fresh session.
    say({ ev: "wait-failed", reason: err.reason ?? String(err) });
    session = await newSession();
    i--;
    continue;
  }
  const first = await guardedWrite(hold, 1);
  say({ ev: "acquired", token: hold.fencingToken.toString(), ok: first });
  await sleep(holdMs[0] + random() * (holdMs[1] - holdMs[0]));
  const second = await guardedWrite(hold, 2);
  say({ ev: "write", token: hold.fencingToken.toString(), ok: second, lost: hold.isLost });
  try {
    await hold.unlock();
    say({ ev: "released", token: hold.fencingToken.toString() });
  } catch (err) {
    if (!LockError.is(err, "lost", "sessionLost")) throw err;
    say({ ev: "lost", token: hold.fencingToken.toString(), reason: err.reason });
    if (session.isLost) session = await newSession();
  }
}
say({ ev: "done" });
await session.close().catch(() => undefined);
await client.close();
