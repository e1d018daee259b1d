import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { partialWriteFailure } from "../../src/apply/state-machine.js";
import { EtcdServerError } from "../../src/errors.js";
import { Backend, LmdbBackend, MvccStore } from "../../src/mvcc/index.js";
import { b } from "./harness.js";

describe("an etcd error inside a write txn", () => {
  let dir: string;
  let store: MvccStore;
  afterEach(async () => {
    await store.backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is the caller's answer while the txn has written nothing, and an invariant failure after", () => {
    dir = mkdtempSync(join(tmpdir(), "keyway-partial-"));
    store = MvccStore.restore(new Backend(LmdbBackend.open(dir)));
    const error = new EtcdServerError("leaseNotFound");
    const txn = store.write();
    expect(partialWriteFailure(txn, error)).toBe(error);
    const plain = new TypeError("bug");
    expect(partialWriteFailure(txn, plain)).toBe(plain);
    txn.put(b("a"), b("1"), 0n);
    const failure = partialWriteFailure(txn, error);
    expect(failure).not.toBeInstanceOf(EtcdServerError);
    expect((failure as Error).message).toBe(
      "apply: etcd error after a write txn had written (etcd panics here): etcdserver: requested lease not found",
    );
    expect((failure as Error).cause).toBe(error);
  });
});
