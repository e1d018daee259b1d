import { describe, expect, it } from "vitest";
import { KeywayError } from "../src/index.js";
import { useTarget } from "./support/target.js";

const env = useTarget({ proxy: true });

describe("KV", () => {
  it("puts and gets values as Buffers with text() and json()", async () => {
    const put = await env.client.put("kv/a", JSON.stringify({ n: 1 }));
    expect(typeof put.revision).toBe("bigint");
    const kv = await env.client.get("kv/a");
    expect(kv?.json()).toEqual({ n: 1 });
    expect(kv?.keyText()).toBe("kv/a");
    expect(Buffer.isBuffer(kv?.value)).toBe(true);
    expect(kv?.version).toBe(1n);
    expect(kv?.createRevision).toBe(put.revision);
    expect(await env.client.get("kv/missing")).toBeUndefined();
    await env.client.put(Buffer.from([0x6b, 0xff]), Buffer.from([1, 2, 3]));
    expect((await env.client.get(Buffer.from([0x6b, 0xff])))?.value).toEqual(Buffer.from([1, 2, 3]));
  });

  it("returns prevKv, keeps the value with ignoreValue and reports the put revision", async () => {
    await env.client.put("kv/p", "one");
    const second = await env.client.put("kv/p", "two", { prevKv: true });
    expect(second.prevKv?.text()).toBe("one");
    await env.client.put("kv/p", "", { ignoreValue: true });
    const kv = await env.client.get("kv/p");
    expect(kv?.text()).toBe("two");
    expect(kv?.version).toBe(3n);
    await expect(env.client.put("kv/absent", "", { ignoreValue: true })).rejects.toMatchObject({
      reason: "keyNotFound",
    });
  });

  it("supports every range option", async () => {
    for (const k of ["r/a", "r/b", "r/c", "r/d"]) await env.client.put(k, k.toUpperCase());
    await env.client.put("r/b", "B2");
    const all = await env.client.range("r/", { prefix: true });
    expect(all.kvs.map((kv) => kv.keyText())).toEqual(["r/a", "r/b", "r/c", "r/d"]);
    expect(all.count).toBe(4n);

    const limited = await env.client.range("r/", { prefix: true, limit: 2 });
    expect(limited.kvs).toHaveLength(2);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(4n);

    const between = await env.client.range("r/b", { end: "r/d" });
    expect(between.kvs.map((kv) => kv.keyText())).toEqual(["r/b", "r/c"]);
    const fromKey = await env.client.range("r/c", { fromKey: true, keysOnly: true });
    expect(fromKey.kvs[0]?.keyText()).toBe("r/c");
    expect(fromKey.kvs[0]?.value.length).toBe(0);

    const byMod = await env.client.range("r/", { prefix: true, sort: { target: "mod", order: "descend" } });
    expect(byMod.kvs[0]?.keyText()).toBe("r/b");
    const byValue = await env.client.range("r/", { prefix: true, sort: { target: "value" } });
    expect(byValue.kvs.map((kv) => kv.text())).toEqual(["B2", "R/A", "R/C", "R/D"]);

    const countOnly = await env.client.range("r/", { prefix: true, countOnly: true });
    expect(countOnly.kvs).toHaveLength(0);
    expect(countOnly.count).toBe(4n);

    const rb = await env.client.get("r/b");
    const created = await env.client.range("r/", {
      prefix: true,
      minCreateRevision: rb?.createRevision ?? 0n,
    });
    expect(created.kvs.map((kv) => kv.keyText())).toEqual(["r/b", "r/c", "r/d"]);
    const modded = await env.client.range("r/", { prefix: true, maxModRevision: rb?.createRevision ?? 0n });
    expect(modded.kvs.map((kv) => kv.keyText())).toEqual(["r/a"]);

    const old = await env.client.range("r/b", { revision: rb?.createRevision ?? 0n, serializable: true });
    expect(old.kvs[0]?.text()).toBe("R/B");
  });

  it("deletes keys, prefixes and ranges with prevKv", async () => {
    for (const k of ["d/a", "d/b", "d/c", "e"]) await env.client.put(k, "x");
    const one = await env.client.delete("d/a", { prevKv: true });
    expect(one.deleted).toBe(1n);
    expect(one.prevKvs[0]?.keyText()).toBe("d/a");
    const none = await env.client.delete("d/a");
    expect(none.deleted).toBe(0n);
    const prefix = await env.client.delete("d/", { prefix: true });
    expect(prefix.deleted).toBe(2n);
    expect(await env.client.get("e")).toBeDefined();
  });

  it("compacts and then reports typed compacted and futureRev errors", async () => {
    const first = await env.client.put("c/k", "1");
    const second = await env.client.put("c/k", "2");
    await env.client.compact(second.revision, { physical: true });
    const error = await env.client.get("c/k", { revision: first.revision }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeywayError);
    expect(error).toMatchObject({ reason: "compacted", code: 11 });
    expect((await env.client.get("c/k", { revision: second.revision }))?.text()).toBe("2");
    await expect(env.client.get("c/k", { revision: second.revision + 1000n })).rejects.toMatchObject({
      reason: "futureRev",
    });
    await expect(env.client.compact(first.revision)).rejects.toMatchObject({ reason: "compacted" });
  });

  it("maps unknown leases to leaseNotFound", async () => {
    await expect(env.client.put("l/k", "v", { lease: 123456789n })).rejects.toMatchObject({
      reason: "leaseNotFound",
      code: 5,
    });
  });

  it("honours timeoutMs and AbortSignal", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(env.client.get("kv/a", { signal: controller.signal })).rejects.toMatchObject({
      reason: "aborted",
    });
    const slow = new AbortController();
    const pending = env.client.range("", { prefix: true, signal: slow.signal });
    slow.abort();
    await expect(pending).rejects.toMatchObject({ reason: "aborted" });
    // A deadline shorter than the server's answer: every reply is delayed 300 ms by a proxy.
    await env.proxied.get("kv/a");
    env.proxy.setDelay(300);
    try {
      await expect(env.proxied.get("kv/a", { timeoutMs: 50 })).rejects.toMatchObject({ reason: "timeout" });
    } finally {
      env.proxy.setDelay(0);
    }
  });
});
