import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeywayClient, KeywayError } from "../src/index.js";
import { startTarget, type Target } from "./support/target.js";
import { startTcpProxy } from "./support/tcp-proxy.js";

let target: Target;
let client: KeywayClient;

beforeAll(async () => {
  target = await startTarget();
  client = new KeywayClient({ endpoints: target.endpoints });
});
afterAll(async () => {
  await client?.close();
  await target?.close();
});

describe("KV", () => {
  it("puts and gets values as Buffers with text() and json()", async () => {
    const put = await client.put("kv/a", JSON.stringify({ n: 1 }));
    expect(typeof put.revision).toBe("bigint");
    const kv = await client.get("kv/a");
    expect(kv?.json()).toEqual({ n: 1 });
    expect(kv?.keyText()).toBe("kv/a");
    expect(Buffer.isBuffer(kv?.value)).toBe(true);
    expect(kv?.version).toBe(1n);
    expect(kv?.createRevision).toBe(put.revision);
    expect(await client.get("kv/missing")).toBeUndefined();
    await client.put(Buffer.from([0x6b, 0xff]), Buffer.from([1, 2, 3]));
    expect((await client.get(Buffer.from([0x6b, 0xff])))?.value).toEqual(Buffer.from([1, 2, 3]));
  });

  it("returns prevKv, keeps the value with ignoreValue and reports the put revision", async () => {
    await client.put("kv/p", "one");
    const second = await client.put("kv/p", "two", { prevKv: true });
    expect(second.prevKv?.text()).toBe("one");
    await client.put("kv/p", "", { ignoreValue: true });
    const kv = await client.get("kv/p");
    expect(kv?.text()).toBe("two");
    expect(kv?.version).toBe(3n);
    await expect(client.put("kv/absent", "", { ignoreValue: true })).rejects.toMatchObject({
      reason: "keyNotFound",
    });
  });

  it("supports every range option", async () => {
    for (const k of ["r/a", "r/b", "r/c", "r/d"]) await client.put(k, k.toUpperCase());
    await client.put("r/b", "B2");
    const all = await client.range("r/", { prefix: true });
    expect(all.kvs.map((kv) => kv.keyText())).toEqual(["r/a", "r/b", "r/c", "r/d"]);
    expect(all.count).toBe(4n);

    const limited = await client.range("r/", { prefix: true, limit: 2 });
    expect(limited.kvs).toHaveLength(2);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(4n);

    const between = await client.range("r/b", { end: "r/d" });
    expect(between.kvs.map((kv) => kv.keyText())).toEqual(["r/b", "r/c"]);
    const fromKey = await client.range("r/c", { fromKey: true, keysOnly: true });
    expect(fromKey.kvs[0]?.keyText()).toBe("r/c");
    expect(fromKey.kvs[0]?.value.length).toBe(0);

    const byMod = await client.range("r/", { prefix: true, sort: { target: "mod", order: "descend" } });
    expect(byMod.kvs[0]?.keyText()).toBe("r/b");
    const byValue = await client.range("r/", { prefix: true, sort: { target: "value" } });
    expect(byValue.kvs.map((kv) => kv.text())).toEqual(["B2", "R/A", "R/C", "R/D"]);

    const countOnly = await client.range("r/", { prefix: true, countOnly: true });
    expect(countOnly.kvs).toHaveLength(0);
    expect(countOnly.count).toBe(4n);

    const rb = await client.get("r/b");
    const created = await client.range("r/", { prefix: true, minCreateRevision: rb?.createRevision ?? 0n });
    expect(created.kvs.map((kv) => kv.keyText())).toEqual(["r/b", "r/c", "r/d"]);
    const modded = await client.range("r/", { prefix: true, maxModRevision: rb?.createRevision ?? 0n });
    expect(modded.kvs.map((kv) => kv.keyText())).toEqual(["r/a"]);

    const old = await client.range("r/b", { revision: rb?.createRevision ?? 0n, serializable: true });
    expect(old.kvs[0]?.text()).toBe("R/B");
  });

  it("deletes keys, prefixes and ranges with prevKv", async () => {
    for (const k of ["d/a", "d/b", "d/c", "e"]) await client.put(k, "x");
    const one = await client.delete("d/a", { prevKv: true });
    expect(one.deleted).toBe(1n);
    expect(one.prevKvs[0]?.keyText()).toBe("d/a");
    const none = await client.delete("d/a");
    expect(none.deleted).toBe(0n);
    const prefix = await client.delete("d/", { prefix: true });
    expect(prefix.deleted).toBe(2n);
    expect(await client.get("e")).toBeDefined();
  });

  it("compacts and then reports typed compacted and futureRev errors", async () => {
    const first = await client.put("c/k", "1");
    const second = await client.put("c/k", "2");
    await client.compact(second.revision, { physical: true });
    const error = await client.get("c/k", { revision: first.revision }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeywayError);
    expect(error).toMatchObject({ reason: "compacted", code: 11 });
    expect((await client.get("c/k", { revision: second.revision }))?.text()).toBe("2");
    await expect(client.get("c/k", { revision: second.revision + 1000n })).rejects.toMatchObject({
      reason: "futureRev",
    });
    await expect(client.compact(first.revision)).rejects.toMatchObject({ reason: "compacted" });
  });

  it("maps unknown leases to leaseNotFound", async () => {
    await expect(client.put("l/k", "v", { lease: 123456789n })).rejects.toMatchObject({
      reason: "leaseNotFound",
      code: 5,
    });
  });

  it("honours timeoutMs and AbortSignal", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(client.get("kv/a", { signal: controller.signal })).rejects.toMatchObject({
      reason: "aborted",
    });
    const slow = new AbortController();
    const pending = client.range("", { prefix: true, signal: slow.signal });
    slow.abort();
    await expect(pending).rejects.toMatchObject({ reason: "aborted" });
    // A deadline shorter than the server's answer: every reply is delayed 300 ms by a proxy.
    const proxy = await startTcpProxy(target.endpoints[0] as string);
    const slowClient = new KeywayClient({ endpoints: [proxy.url] });
    try {
      await slowClient.get("kv/a");
      proxy.setDelay(300);
      await expect(slowClient.get("kv/a", { timeoutMs: 50 })).rejects.toMatchObject({ reason: "timeout" });
    } finally {
      await slowClient.close();
      await proxy.close();
    }
  });
});
