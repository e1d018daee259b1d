import { afterEach, describe, expect, it } from "vitest";
import { ETCDCTL_BIN } from "../../../test/support/etcd-process.js";
import { type LockHold, locks } from "../src/index.js";
import { type Background, background } from "./support/background.js";
import { keysUnder, until, useSessions, useTarget } from "./support/env.js";

const env = useTarget();
const session = useSessions(() => env.client);
const started: Background[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop("SIGKILL")));
});

/** `etcdctl <args>` against the target, in the background. */
function ctl(...args: string[]): Background {
  const p = background(ETCDCTL_BIN, [`--endpoints=${env.target.endpoints[0]}`, ...args], {
    ETCDCTL_API: "3",
  });
  started.push(p);
  return p;
}

describe("interop with Go's concurrency package (etcdctl 3.4)", () => {
  it("a Node mutex and two `etcdctl lock` processes take turns in queue order", async () => {
    const lock = locks(env.client);
    const [a, b] = [await session(), await session()];
    const first = await lock.mutex("interop/lock", { session: a }).lock();
    const ctl1 = ctl("lock", "interop/lock");
    await until(async () => (await keysUnder(env.client, "interop/lock/")) === 2, 10_000, "etcdctl 1 queued");
    const node = lock.mutex("interop/lock", { session: b });
    const turns: string[] = [];
    let nodeHold: LockHold | undefined;
    const nodeTurn = node.lock().then((hold) => {
      turns.push("node");
      nodeHold = hold;
    });
    await until(async () => (await keysUnder(env.client, "interop/lock/")) === 3, 10_000, "node queued");
    const ctl2 = ctl("lock", "interop/lock");
    await until(async () => (await keysUnder(env.client, "interop/lock/")) === 4, 10_000, "etcdctl 2 queued");

    await first.unlock();
    // etcdctl prints its key once it holds the lock: Go's layout, name/ + hex(lease).
    const key1 = await ctl1.waitLine((l) => l.startsWith("interop/lock/"));
    turns.push("ctl1");
    expect(key1).toMatch(/^interop\/lock\/[0-9a-f]+$/);
    expect(ctl2.lines).toEqual([]);
    expect(turns).toEqual(["ctl1"]);

    await ctl1.stop("SIGINT"); // etcdctl unlocks on SIGINT
    await nodeTurn;
    expect(turns).toEqual(["ctl1", "node"]);
    expect(ctl2.lines).toEqual([]);
    const kv1 = (await env.client.range("interop/lock/", { prefix: true })).kvs;
    expect(kv1.map((kv) => kv.key.toString())).toContain(node.key.toString());

    await nodeHold?.unlock();
    const key2 = await ctl2.waitLine((l) => l.startsWith("interop/lock/"));
    turns.push("ctl2");
    expect(turns).toEqual(["ctl1", "node", "ctl2"]);
    expect(key2).not.toBe(key1);
    // The Node lock respects etcdctl's hold.
    await expect(node.tryLock()).rejects.toMatchObject({ reason: "locked" });
    await ctl2.stop("SIGINT");
    await until(async () => (await keysUnder(env.client, "interop/lock/")) === 0, 10_000, "queue empty");
  });

  it("`etcdctl elect`, `etcdctl elect -l` and a Node election see the same leader", async () => {
    const lock = locks(env.client);
    const [a, b] = [await session(), await session()];
    const observer = ctl("elect", "-l", "interop/elect");
    const nodeSeen: string[] = [];
    const controller = new AbortController();
    const watching = (async () => {
      const e = lock.election("interop/elect", { session: b });
      for await (const l of e.observe({ signal: controller.signal })) nodeSeen.push(l.value.toString());
    })();

    const node = lock.election("interop/elect", { session: a });
    await node.campaign("node-1");
    await observer.waitLine((l) => l === "node-1");
    const candidate = ctl("elect", "interop/elect", "ctl-1");
    await until(
      async () => (await keysUnder(env.client, "interop/elect/")) === 2,
      10_000,
      "etcdctl candidate",
    );
    expect(candidate.lines).toEqual([]);

    await node.resign();
    // The etcdctl candidate prints its key and value once elected.
    await candidate.waitLine((l) => l === "ctl-1");
    await observer.waitLine((l) => l === "ctl-1");
    expect((await node.leader()).value.toString()).toBe("ctl-1");
    await until(() => nodeSeen.includes("ctl-1"), 10_000, "node observer sees ctl-1");

    const again = node.campaign("node-2");
    await until(
      async () => (await keysUnder(env.client, "interop/elect/")) === 2,
      10_000,
      "node re-campaigns",
    );
    await candidate.stop("SIGINT"); // etcdctl resigns on SIGINT
    await again;
    await observer.waitLine((l) => l === "node-2");
    await until(() => nodeSeen.includes("node-2"), 10_000, "node observer sees node-2");
    controller.abort();
    await watching;
    expect(nodeSeen).toEqual(["node-1", "ctl-1", "node-2"]);
    const values = observer.lines.filter((l) => !l.startsWith("interop/elect/"));
    expect(values).toEqual(["node-1", "ctl-1", "node-2"]);
    await node.resign();
  });
});
