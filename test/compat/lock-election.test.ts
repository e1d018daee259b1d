import { type ClientReadableStream, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { etcdserverpb, prefixEnd, v3electionpb, v3lockpb } from "@keyway/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackgroundCtl, startCtl } from "../support/background-ctl.js";
import { type ServerPair, startPair } from "../support/pair.js";
import { type CallOutcome, call } from "../support/raw-grpc.js";

/**
 * Differential suite for the Lock and Election services and for etcdctl's `lock` and `elect`
 * (which run Go's `concurrency` package on the client side): the same scenario runs against real
 * etcd 3.4 and against Keyway, and the transcripts (lease ids and member ids blanked, revisions
 * kept) must be identical. Callers of the services and etcdctl processes contend for the same
 * lock and election, so the key layouts and the queue order must agree.
 */

interface Clients {
  kv: etcdserverpb.KVClient;
  lease: etcdserverpb.LeaseClient;
  lock: v3lockpb.LockClient;
  election: v3electionpb.ElectionClient;
  close(): void;
}

function clients(endpoint: string): Clients {
  const address = endpoint.replace(/^http:\/\//, "");
  const insecure = credentials.createInsecure();
  const kv = new etcdserverpb.KVClient(address, insecure);
  const lease = new etcdserverpb.LeaseClient(address, insecure);
  const lock = new v3lockpb.LockClient(address, insecure);
  const election = new v3electionpb.ElectionClient(address, insecure);
  return {
    kv,
    lease,
    lock,
    election,
    close: () => {
      for (const client of [kv, lease, lock, election]) client.close();
    },
  };
}

/** Blanks lease ids (in `name/<hex>` keys, lease fields) and member ids; keeps revisions and values. */
function normalise(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (key, field: unknown) => {
      if (key === "clusterId" || key === "memberId" || key === "raftTerm") return undefined;
      if (key === "lease" || key === "ID") return field === 0n ? "0" : "<lease>";
      if (typeof field === "bigint") return field.toString();
      if (
        field instanceof Uint8Array ||
        (typeof field === "object" &&
          field !== null &&
          "type" in field &&
          (field as { type: unknown }).type === "Buffer")
      )
        return blankLease(Buffer.from(field as Uint8Array).toString());
      if (typeof field === "string") return blankLease(field);
      return field;
    }),
  );
}

function blankLease(text: string): string {
  return text.replace(/([A-Za-z]+)\/[0-9a-f]{1,16}\b/g, "$1/<lease>");
}

/** A call's result; the text of client-side deadline errors carries timings, so only their code is kept. */
function outcome<T>(result: CallOutcome<T>): unknown {
  if (result.ok) return normalise({ ok: result.value });
  return result.code === 4 ? { code: result.code } : { code: result.code, message: result.message };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the number of keys under `prefix` until it equals `count`. */
async function waitForKeys(c: Clients, prefix: string, count: number): Promise<void> {
  const key = Buffer.from(prefix);
  for (let i = 0; i < 500; i++) {
    const result = await call<etcdserverpb.RangeResponse>((cb) =>
      c.kv.range(
        etcdserverpb.RangeRequest.fromPartial({ key, rangeEnd: prefixEnd(key), countOnly: true }),
        cb,
      ),
    );
    if (result.ok && result.value.count === BigInt(count)) return;
    await sleep(20);
  }
  throw new Error(`${prefix}: never ${count} keys`);
}

async function grant(c: Clients, ttl: number): Promise<bigint> {
  const result = await call<etcdserverpb.LeaseGrantResponse>((cb) =>
    c.lease.leaseGrant(etcdserverpb.LeaseGrantRequest.fromPartial({ TTL: BigInt(ttl) }), cb),
  );
  if (!result.ok) throw new Error(`lease grant: ${result.message}`);
  return result.value.ID;
}

/** Whether a promise is still pending after `ms`. */
async function stillPending(promise: Promise<unknown>, ms = 300): Promise<boolean> {
  return Promise.race([promise.then(() => false), sleep(ms).then(() => true)]);
}

/** Reads messages of a server stream one at a time. */
function streamReader<T>(stream: ClientReadableStream<T>) {
  const queue: T[] = [];
  let failure: ServiceError | undefined;
  stream.on("data", (message: T) => queue.push(message));
  stream.on("error", (error: ServiceError) => {
    failure = error;
  });
  return async (): Promise<T> => {
    for (let i = 0; i < 500 && queue.length === 0; i++) {
      if (failure !== undefined && failure.code !== 1) throw failure;
      await sleep(20);
    }
    const next = queue.shift();
    if (next === undefined) throw new Error("no stream message within 10 s");
    return next;
  };
}

async function lockScenario(endpoint: string): Promise<unknown[]> {
  const c = clients(endpoint);
  const transcript: unknown[] = [];
  const lock = (name: string, lease: bigint, deadlineMs?: number) =>
    call<v3lockpb.LockResponse>((cb) =>
      deadlineMs === undefined
        ? c.lock.lock({ name: Buffer.from(name), lease }, cb)
        : c.lock.lock(
            { name: Buffer.from(name), lease },
            new Metadata(),
            { deadline: Date.now() + deadlineMs },
            cb,
          ),
    );
  const unlock = (key: Buffer) => call<v3lockpb.UnlockResponse>((cb) => c.lock.unlock({ key }, cb));
  let ctl: BackgroundCtl | undefined;
  let ctl2: BackgroundCtl | undefined;
  try {
    const [l1, l2, l3] = [await grant(c, 60), await grant(c, 60), await grant(c, 60)];
    const first = await lock("jobs", l1);
    transcript.push(outcome(first));
    if (!first.ok) return transcript;
    const second = lock("jobs", l2);
    transcript.push({ secondWaits: await stillPending(second) });
    // Two etcdctl processes (client-side Go Mutex) queue behind both service callers.
    ctl = startCtl(endpoint, ["lock", "jobs"]);
    await waitForKeys(c, "jobs/", 3);
    ctl2 = startCtl(endpoint, ["lock", "jobs"]);
    await waitForKeys(c, "jobs/", 4);
    transcript.push(outcome(await unlock(first.value.key)));
    const secondResult = await second;
    transcript.push(outcome(secondResult));
    transcript.push({ ctlWaits: ctl.stdout() === "" });
    if (secondResult.ok) transcript.push(outcome(await unlock(secondResult.value.key)));
    transcript.push(blankLease(await ctl.waitFor(/jobs\/\w+\n/)));
    transcript.push({ ctl2Waits: ctl2.stdout() === "" });
    transcript.push({ ctlExit: await ctl.interrupt() });
    transcript.push(blankLease(await ctl2.waitFor(/jobs\/\w+\n/)));
    transcript.push({ ctl2Exit: await ctl2.interrupt() });
    await waitForKeys(c, "jobs/", 0);
    // A waiter whose deadline passes leaves the queue: its key is deleted.
    const third = await lock("jobs", l3);
    transcript.push(outcome(third));
    transcript.push(outcome(await lock("jobs", l1, 300)));
    await waitForKeys(c, "jobs/", 1);
    if (third.ok) transcript.push(outcome(await unlock(third.value.key)));
    // Errors: an unknown lease; unlocking a key nobody holds.
    transcript.push(outcome(await lock("jobs", 0x1234n)));
    transcript.push(outcome(await unlock(Buffer.from("jobs/missing"))));
    return transcript;
  } finally {
    await ctl?.interrupt();
    await ctl2?.interrupt();
    c.close();
  }
}

async function electionScenario(endpoint: string): Promise<unknown[]> {
  const c = clients(endpoint);
  const transcript: unknown[] = [];
  const name = Buffer.from("leader");
  const campaign = (lease: bigint, value: string) =>
    call<v3electionpb.CampaignResponse>((cb) =>
      c.election.campaign({ name, lease, value: Buffer.from(value) }, cb),
    );
  const proclaim = (leader: v3electionpb.LeaderKey | undefined, value: string) =>
    call<v3electionpb.ProclaimResponse>((cb) =>
      c.election.proclaim({ leader, value: Buffer.from(value) }, cb),
    );
  const resign = (leader: v3electionpb.LeaderKey | undefined) =>
    call<v3electionpb.ResignResponse>((cb) => c.election.resign({ leader }, cb));
  const leader = () => call<v3electionpb.LeaderResponse>((cb) => c.election.leader({ name }, cb));
  const background: BackgroundCtl[] = [];
  const observe = c.election.observe({ name });
  const nextObserved = streamReader(observe);
  try {
    const [l1, l2] = [await grant(c, 60), await grant(c, 60)];
    transcript.push(outcome(await leader()));
    const first = await campaign(l1, "one");
    transcript.push(outcome(first));
    if (!first.ok) return transcript;
    transcript.push(normalise(await nextObserved()));
    const second = campaign(l2, "two");
    transcript.push({ secondWaits: await stillPending(second) });
    transcript.push(outcome(await proclaim(first.value.leader, "one-b")));
    transcript.push(normalise(await nextObserved()));
    transcript.push(outcome(await leader()));
    const stale = first.value.leader && { ...first.value.leader, rev: first.value.leader.rev + 100n };
    transcript.push(outcome(await proclaim(stale, "x")));
    transcript.push(outcome(await proclaim(undefined, "x")));
    transcript.push(outcome(await resign(undefined)));
    const elect = startCtl(endpoint, ["elect", "leader", "three"]);
    background.push(elect);
    await waitForKeys(c, "leader/", 3);
    const watcher = startCtl(endpoint, ["elect", "-l", "leader"]);
    background.push(watcher);
    transcript.push(blankLease(await watcher.waitFor(/one-b\n/)));
    transcript.push(outcome(await resign(first.value.leader)));
    const secondResult = await second;
    transcript.push(outcome(secondResult));
    transcript.push(normalise(await nextObserved()));
    transcript.push(blankLease(await watcher.waitFor(/two\n/)));
    transcript.push({ electWaits: elect.stdout() === "" });
    if (secondResult.ok) transcript.push(outcome(await resign(secondResult.value.leader)));
    transcript.push(blankLease(await elect.waitFor(/three\n/)));
    transcript.push(normalise(await nextObserved()));
    transcript.push(blankLease(await watcher.waitFor(/three\n/)));
    transcript.push({ electExit: await elect.interrupt() });
    await waitForKeys(c, "leader/", 0);
    return transcript;
  } finally {
    observe.cancel();
    for (const ctl of background) await ctl.interrupt();
    c.close();
  }
}

describe("Lock and Election services and etcdctl lock/elect, etcd 3.4 vs Keyway", () => {
  let pair: ServerPair;
  beforeAll(async () => {
    pair = await startPair();
  }, 60_000);
  afterAll(async () => {
    await pair?.close();
  });

  it("Lock: service callers and etcdctl lock take turns in revision order; cancelled waiters leave the queue", async () => {
    const etcd = await lockScenario(pair.etcd.endpoints[0] as string);
    const keyway = await lockScenario(pair.keyway.endpoint);
    expect(etcd).toContain("jobs/<lease>\n\n");
    expect(keyway).toEqual(etcd);
  }, 60_000);

  it("Election: campaign, proclaim, leader, observe, resign, with etcdctl elect and elect -l", async () => {
    const etcd = await electionScenario(pair.etcd.endpoints[0] as string);
    const keyway = await electionScenario(pair.keyway.endpoint);
    expect(etcd.length).toBeGreaterThan(15);
    expect(keyway).toEqual(etcd);
  }, 60_000);
});
