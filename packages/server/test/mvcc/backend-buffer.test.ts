import { describe, expect, it } from "vitest";
import { Backend } from "../../src/mvcc/index.js";
import { encodeRevision } from "../../src/mvcc/revision.js";
import { SimMachine } from "../sim/sim-machine.js";

const rev = (main: number, sub = 0) => encodeRevision(main, sub);
const value = (text: string) => Buffer.from(text);
/** `main_sub=value` of every stored revision, oldest first. */
const scanAll = (backend: Backend, limit = 0) =>
  [...backend.scan(rev(0), Number.MAX_SAFE_INTEGER - 1, limit)].map(
    ({ key, value }) => `${key.readUInt32BE(4)}_${key.readUInt32BE(13)}=${value.toString()}`,
  );

describe("Backend: write buffer over the committed data", () => {
  it("reads buffer, committing layer and committed data as one state, removals included", async () => {
    const kv = SimMachine.boot().kv;
    const backend = new Backend(kv);
    backend.put(rev(2), value("a"));
    backend.put(rev(3), value("b"));
    backend.putLease({ id: 7n, ttlSeconds: 10 });
    backend.setApplied({ index: 2, term: 1 });
    await backend.commit();
    expect(backend.committed).toEqual({ index: 2, term: 1 });

    backend.put(rev(4), value("c"));
    backend.put(rev(4, 1), value("d"));
    backend.remove(rev(2));
    backend.putLease({ id: 8n, ttlSeconds: 20 });
    backend.setApplied({ index: 3, term: 2 });
    // The commit lands a turn later (as lmdb-js's does); meanwhile the layer stays readable.
    const committing = backend.commit();
    backend.put(rev(5), value("e"));
    backend.remove(rev(4, 1));
    backend.removeLease(7n);
    expect(scanAll(backend)).toEqual(["3_0=b", "4_0=c", "5_0=e"]);
    expect(scanAll(backend, 2)).toEqual(["3_0=b", "4_0=c"]);
    expect(backend.get(rev(2))).toBeUndefined();
    expect(backend.get(rev(4, 1))).toBeUndefined();
    expect(backend.get(rev(4))?.toString()).toBe("c");
    expect([...backend.leases()]).toEqual([{ id: 8n, ttlSeconds: 20 }]);
    expect(backend.appliedIndex).toBe(3);
    expect(backend.committed).toEqual({ index: 2, term: 1 });
    await committing;
    expect(backend.committed).toEqual({ index: 3, term: 2 });
    expect(scanAll(backend)).toEqual(["3_0=b", "4_0=c", "5_0=e"]);

    await backend.commit();
    expect(backend.pendingWrites).toBe(0);
    // The committed data alone now holds the same state.
    const reopened = new Backend(kv);
    expect(scanAll(reopened)).toEqual(["3_0=b", "4_0=c", "5_0=e"]);
    expect([...reopened.leases()]).toEqual([{ id: 8n, ttlSeconds: 20 }]);
    expect(reopened.committed).toEqual({ index: 3, term: 2 });
  });

  it("scans each revision once while a commit is visible in the backend but not yet flushed", async () => {
    const backend = new Backend(SimMachine.boot().kv);
    backend.put(rev(2), value("a"));
    await backend.commit();
    backend.put(rev(3), value("b"));
    backend.put(rev(4), value("c"));
    const committing = backend.commit();
    backend.put(rev(5), value("d"));
    backend.remove(rev(4));
    // Two turns (the commit starts a microtask later): its writes are visible in the backend, and
    // its layer is not dropped yet.
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(scanAll(backend)).toEqual(["2_0=a", "3_0=b", "5_0=d"]);
    expect(scanAll(backend, 2)).toEqual(["2_0=a", "3_0=b"]);
    await committing;
    expect(scanAll(backend)).toEqual(["2_0=a", "3_0=b", "5_0=d"]);
  });

  it("refuses a put that is not the newest revision (the scan merge relies on it)", () => {
    const backend = new Backend(SimMachine.boot().kv);
    backend.put(rev(3), value("x"));
    expect(() => backend.put(rev(2), value("y"))).toThrow("not the newest");
  });
});
