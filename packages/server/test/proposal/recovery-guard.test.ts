import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { etcdserverpb, keywaypb } from "@keyway/api";
import { afterEach, describe, expect, it } from "vitest";
import { StateMachine } from "../../src/apply/index.js";
import { replayWal } from "../../src/proposal/recovery.js";
import { openTestMember } from "./member.js";

const put = (key: string) =>
  ({
    $case: "put",
    put: etcdserverpb.PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from("v") }),
  }) as const;

/** Recovery refuses a backend that does not fit the WAL, instead of applying entries on top of it. */
describe("replayWal guards", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a backend older than the WAL's snapshot marker (restored from a backup)", async () => {
    dir = mkdtempSync(join(tmpdir(), "keyway-recovery-guard-"));
    const m = await openTestMember(dir);
    for (let i = 0; i < 5; i++) await m.proposer.propose(put(`a${i}`));
    await m.stateMachine.commit();
    const backupIndex = m.stateMachine.appliedIndex;
    cpSync(join(dir, "db"), join(dir, "backup"), { recursive: true });
    for (let i = 0; i < 15; i++) await m.proposer.propose(put(`b${i}`));
    // A checkpoint: the backend is synced, the marker written, the segments below it released.
    await m.stateMachine.commit();
    const markerIndex = m.stateMachine.appliedIndex;
    await m.wal.append({ snapshot: { index: markerIndex, term: 1 } });
    await m.wal.releaseBefore(markerIndex + 1);
    await m.proposer.propose(put("after"));
    await m.close();

    rmSync(join(dir, "db"), { recursive: true });
    cpSync(join(dir, "backup"), join(dir, "db"), { recursive: true });
    await expect(openTestMember(dir)).rejects.toThrow(
      `recovery: the backend is at applied index ${backupIndex} but the WAL released every entry up to ${markerIndex}; the backend is older than the log (restored from a backup?)`,
    );
    const stateMachine = StateMachine.open({ dir: join(dir, "db"), minLeaseTtlSeconds: 2 });
    expect(stateMachine.appliedIndex).toBe(backupIndex);
    await stateMachine.close();
  });

  it("refuses a log whose next entry does not follow the backend's applied index", async () => {
    dir = mkdtempSync(join(tmpdir(), "keyway-recovery-guard-"));
    const stateMachine = StateMachine.open({ dir: join(dir, "db"), minLeaseTtlSeconds: 2 });
    try {
      const entry = (index: number) => ({
        index,
        term: 1,
        data: keywaypb.InternalRequest.encode({ id: BigInt(index), request: put(`k${index}`) }).finish(),
      });
      expect(() => replayWal([entry(3), entry(4)], stateMachine)).toThrow(
        "recovery: the backend is at applied index 0 but the WAL's next entry is 3; entries in between are missing",
      );
      expect(stateMachine.currentRevision).toBe(1);
      expect(replayWal([entry(1), entry(2)], stateMachine)).toEqual({ lastIndex: 2, replayed: 2 });
    } finally {
      await stateMachine.close();
    }
  });
});
