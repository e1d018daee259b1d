import { describe, expect, it } from "vitest";
import { compare, op, txn } from "../src/index.js";
import { useTarget } from "./support/target.js";

const env = useTarget();

describe("txn", () => {
  it("creates a key only when absent (create == 0) and reports each op's result", async () => {
    const first = await env.client
      .txn()
      .if(compare.create("t/lock", "==", 0n))
      .then(op.put("t/lock", "me"), op.get("t/lock"))
      .else(op.get("t/lock"))
      .commit();
    expect(first.succeeded).toBe(true);
    expect(first.responses.map((r) => r.type)).toEqual(["put", "range"]);
    const read = first.responses[1];
    expect(read?.type === "range" && read.range.kvs[0]?.text()).toBe("me");

    const second = await env.client
      .txn()
      .if(compare.create("t/lock", "==", 0n))
      .then(op.put("t/lock", "you"))
      .else(op.get("t/lock"))
      .commit();
    expect(second.succeeded).toBe(false);
    expect(second.revision).toBe(first.revision);
  });

  it("compares value, version, mod and lease", async () => {
    const put = await env.client.put("t/v", "x");
    await env.client.put("t/l", "y");
    const result = await env.client
      .txn()
      .if(
        compare.value("t/v", "==", "x"),
        compare.value("t/v", "!=", "z"),
        compare.version("t/v", ">", 0n),
        compare.mod("t/v", "==", put.revision),
        compare.mod("t/v", "<", put.revision + 100n),
        compare.lease("t/l", "==", 0n),
      )
      .then(op.put("t/ok", "1"))
      .commit();
    expect(result.succeeded).toBe(true);
    const missingValue = await env.client
      .txn()
      .if(compare.value("t/none", "==", ""))
      .commit();
    expect(missingValue.succeeded).toBe(false);
  });

  it("applies range compares to every key in the range", async () => {
    await env.client.put("t/r/a", "1");
    await env.client.put("t/r/b", "1");
    const all = await env.client
      .txn()
      .if(compare.value("t/r/", "==", "1", { prefix: true }))
      .commit();
    expect(all.succeeded).toBe(true);
    await env.client.put("t/r/c", "2");
    const notAll = await env.client
      .txn()
      .if(compare.value("t/r/", "==", "1", { prefix: true }))
      .commit();
    expect(notAll.succeeded).toBe(false);
  });

  it("runs nested txns and deletes in one revision", async () => {
    await env.client.put("t/n/a", "1");
    const result = await env.client
      .txn()
      .then(
        op.delete("t/n/", { prefix: true, prevKv: true }),
        op.txn(
          txn()
            .if(compare.version("t/absent", "==", 0n))
            .then(op.put("t/m/b", "2"))
            .else(op.put("t/m/c", "3")),
        ),
      )
      .commit();
    const [deleted, nested] = result.responses;
    expect(deleted?.type === "delete" && deleted.delete.prevKvs.map((kv) => kv.text())).toEqual(["1"]);
    expect(nested?.type === "txn" && nested.txn.succeeded).toBe(true);
    const b = await env.client.get("t/m/b");
    expect(b?.modRevision).toBe(result.revision);
  });

  it("surfaces etcd's txn errors with typed reasons", async () => {
    await expect(
      env.client.txn().then(op.put("t/d", "1"), op.put("t/d", "2")).commit(),
    ).rejects.toMatchObject({
      reason: "duplicateKey",
    });
    const many = Array.from({ length: 129 }, (_, i) => op.put(`t/many/${i}`, "x"));
    await expect(
      env.client
        .txn()
        .then(...many)
        .commit(),
    ).rejects.toMatchObject({ reason: "tooManyOps" });
  });
});
