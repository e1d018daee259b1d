import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { etcdserverpb, keywaypb } from "@keyway/api";
import { afterEach, describe, expect, it } from "vitest";
import { StateMachine } from "../../src/apply/index.js";
import { Proposer } from "../../src/proposal/proposer.js";
import { replayWal } from "../../src/proposal/recovery.js";
import { Wal } from "../../src/wal/index.js";

const put = (key: string) =>
  ({
    $case: "put",
    put: etcdserverpb.PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from("v") }),
  }) as const;

/** Recovery refuses a backend that does not fit the WAL, instead of applying entries on top of it. */
describe("replayWal guards", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function member() {
    const stateMachine = StateMachine.open({ dir: join(dir, "db"), minLeaseTtlSeconds: 2 });
    const { wal, replay } = await Wal.open({ dir: join(dir, "wal") });
    const { lastIndex } = replayWal(replay.entries, stateMachine, replay.snapshot?.index ?? 0);
    const proposer = new Proposer(wal, stateMachine, {
      nextIndex: lastIndex + 1,
      term: 1,
      maxRequestBytes: 1 << 20,
      onFatal: (error) => {
        throw error;
      },
      onApplied: () => undefined,
    });
    return { stateMachine, wal, proposer };
  }

  it("refuses a backend older than the WAL's snapshot marker (restored from a backup)", async () => {
    dir = mkdtempSync(join(tmpdir(), "keyway-recovery-guard-"));
    const m = await member();
    for (let i = 0; i < 5; i++) await m.proposer.propose(put(`a${i}`));
    await m.stateMachine.commit();
    cpSync(join(dir, "db"), join(dir, "backup"), { recursive: true });
    for (let i = 0; i < 15; i++) await m.proposer.propose(put(`b${i}`));
    // A checkpoint: the backend is synced, the marker written, the segments below it released.
    await m.stateMachine.commit();
    await m.wal.append({ snapshot: { index: m.stateMachine.appliedIndex, term: 1 } });
    await m.wal.releaseBefore(m.stateMachine.appliedIndex + 1);
    await m.proposer.propose(put("after"));
    await m.proposer.drain();
    await m.wal.close();
    await m.stateMachine.close();

    rmSync(join(dir, "db"), { recursive: true });
    cpSync(join(dir, "backup"), join(dir, "db"), { recursive: true });
    const stateMachine = StateMachine.open({ dir: join(dir, "db"), minLeaseTtlSeconds: 2 });
    const { wal, replay } = await Wal.open({ dir: join(dir, "wal") });
    try {
      expect(stateMachine.appliedIndex).toBe(5);
      expect(() => replayWal(replay.entries, stateMachine, replay.snapshot?.index ?? 0)).toThrow(
        "recovery: the backend is at applied index 5 but the WAL released every entry up to 20; the backend is older than the log (restored from a backup?)",
      );
      expect(stateMachine.appliedIndex).toBe(5);
    } finally {
      await wal.close();
      await stateMachine.close();
    }
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
