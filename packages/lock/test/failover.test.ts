import { KeywayClient, op } from "@keyway/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EtcdCluster, startEtcdCluster } from "../../../test/support/etcd-process.js";
import { preferring } from "../../client/test/support/preferring.js";
import { locks } from "../src/index.js";
import { sleep } from "./support/env.js";

/** With the 3 s after the kill: longer than the sessions' 6 s TTL counted from the kill. */
const TTL_MARGIN_MS = 4_000;

// Member failures are the cluster's business, not the server's: like the client's failover tests,
// this file always runs a real 3-member etcd cluster.
let cluster: EtcdCluster;
beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
});
afterAll(async () => {
  await cluster?.close();
});

describe("locks across a member failure (3-member etcd)", () => {
  it("kill -9 of the member in use: the holder keeps the lock, the waiter keeps its place", async () => {
    const victim = cluster.endpoints[0] as string;
    await using a = new KeywayClient({ endpoints: cluster.endpoints, balancer: preferring(victim) });
    await using b = new KeywayClient({ endpoints: cluster.endpoints, balancer: preferring(victim) });
    await using sa = await a.session({ ttlSeconds: 6 });
    await using sb = await b.session({ ttlSeconds: 6 });
    const ma = locks(a).mutex("failover/lock", { session: sa });
    const mb = locks(b).mutex("failover/lock", { session: sb });
    const hold = await ma.lock();
    let lost = false;
    ma.on("lost", () => {
      lost = true;
    });
    const waiting = new Promise((resolve) => mb.once("waiting", resolve));
    let bAcquired = false;
    const bTurn = mb.lock().then((h) => {
      bAcquired = true;
      return h;
    });
    await waiting;

    await cluster.kill(0);
    await sleep(3_000); // re-election, stream failover, at least one keep-alive on another member
    expect(lost).toBe(false);
    expect(hold.isLost).toBe(false);
    expect(bAcquired).toBe(false);
    const guarded = await a.txn().if(hold.isOwner()).then(op.put("failover/resource", "a")).commit();
    expect(guarded.succeeded).toBe(true);

    await hold.unlock();
    const bHold = await bTurn;
    expect(bHold.fencingToken).toBeGreaterThan(hold.fencingToken);
    await sleep(TTL_MARGIN_MS); // past the TTL: the keep-alive really moved to a live member
    expect(bHold.isLost).toBe(false);
    await bHold.unlock();
    await cluster.restart(0);
  });
});
