import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EtcdCluster, requireEtcd, startEtcdCluster } from "../../../../test/support/etcd-process.js";
import { etcdctl } from "../../../../test/support/etcdctl.js";
import { Harness, req } from "./harness.js";

/**
 * HashKV is how members check each other, so ours must be bit-compatible with etcd's: the same
 * writes through etcdctl on a real etcd 3.4 and through apply here must hash the same at every
 * revision, before and after compaction.
 */
describe.runIf(requireEtcd())("HashKV against etcd 3.4", () => {
  let etcd: EtcdCluster;
  let h: Harness;
  beforeAll(async () => {
    etcd = await startEtcdCluster();
    h = Harness.open();
  });
  afterAll(async () => {
    await etcd?.close();
    await h?.close();
  });

  const ctl = (args: string[]) => {
    const result = etcdctl(etcd.endpoints[0] as string, args);
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  };
  const etcdHash = (revision: number) =>
    JSON.parse(ctl(["endpoint", "hashkv", `--rev=${revision}`, "-w", "json"]))[0].HashKV;

  it("hashes the same history the same way", async () => {
    const steps: [string[], Parameters<typeof h.ok>[0]][] = [
      [["put", "a", "1"], req.put("a", "1")],
      [["put", "b", "two"], req.put("b", "two")],
      [["put", "a", "3"], req.put("a", "3")],
      [["del", "b"], req.del("b")],
      [["put", "b/x", ""], req.put("b/x", "")],
      [["put", "b/y", "y"], req.put("b/y", "y")],
      [["del", "b/", "--prefix"], req.del("b/", "b0")],
      [["put", "c", "c".repeat(300)], req.put("c", "c".repeat(300))],
    ];
    for (const [args, request] of steps) {
      ctl(args);
      h.ok(request);
    }
    expect(h.sm.currentRevision).toBe(9);
    for (let revision = 1; revision <= 9; revision++) {
      expect((await h.sm.hashKV(revision)).hash, `revision ${revision}`).toBe(etcdHash(revision).hash);
    }
    ctl(["compaction", "5", "--physical"]);
    h.ok(req.compact(5));
    await h.sm.compacted(5);
    for (let revision = 6; revision <= 9; revision++) {
      const theirs = etcdHash(revision);
      const ours = await h.sm.hashKV(revision);
      expect(ours.hash, `revision ${revision} after compaction`).toBe(theirs.hash);
      expect(ours.compactRevision).toBe(theirs.compact_revision);
    }
  });
});
