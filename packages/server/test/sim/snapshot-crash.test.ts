import { SeededRng } from "@keyway/raft";
import { describe, expect, it } from "vitest";
import { StateMachine } from "../../src/apply/index.js";
import { SimMachine } from "./sim-machine.js";
import { type LoadState, randomRequest } from "./workload.js";

const TRIALS = Number(process.env.KEYWAY_SNAPSHOT_CRASH_TRIALS ?? 300);
/** The crash falls this many event-loop turns into the restore at most (it takes fewer). */
const MAX_CRASH_TURN = 6;

/** A state machine on a machine that does not crash by itself, with a seeded history, compacted and committed. */
async function seeded(machine: SimMachine, rng: SeededRng, requests: number): Promise<StateMachine> {
  const sm = StateMachine.open({ kv: machine.kv, minLeaseTtlSeconds: 2 });
  const load: LoadState = { leases: [], nextLeaseId: 1n + BigInt(rng.int(100)), revision: 1 };
  let index = 0;
  while (index < requests) {
    const batch = Array.from({ length: 1 + rng.int(8) }, () => ({
      index: ++index,
      term: 1,
      request: { id: BigInt(index), request: randomRequest(rng, load) },
    }));
    sm.applyBatch(batch);
    load.revision = sm.currentRevision;
    if (rng.chance(0.5)) await sm.commit();
  }
  // Physical compaction done, so a reopened copy has nothing left to do and dumps alike.
  await sm.compacted(sm.compactRevision);
  await sm.commit();
  return sm;
}

const dumpOf = async (sm: StateMachine) => Buffer.from((await sm.exportSnapshot()).data);

describe("a snapshot restore on a machine that crashes", () => {
  it(`leaves the old state or the new one at every crash point (${TRIALS} trials)`, async () => {
    const source = await seeded(SimMachine.boot(), new SeededRng(0), 200);
    const newDump = await dumpOf(source);
    const seen = { old: 0, new: 0 };
    for (let seed = 1; seed <= TRIALS; seed++) {
      const rng = new SeededRng(seed);
      const machine = SimMachine.boot();
      const target = await seeded(machine, rng, 1 + rng.int(100));
      const oldDump = await dumpOf(target);
      let finished = false;
      const restore = target.restoreSnapshot(newDump).then(
        () => {
          finished = true;
        },
        () => undefined,
      );
      const crashTurn = rng.int(MAX_CRASH_TURN);
      for (let turn = 0; turn < crashTurn; turn++) await new Promise((resolve) => setImmediate(resolve));
      machine.crash();
      await restore;
      const reopened = StateMachine.open({ kv: machine.reboot(rng).kv, minLeaseTtlSeconds: 2 });
      const dump = await dumpOf(reopened);
      const isNew = dump.equals(newDump);
      expect(isNew || dump.equals(oldDump), `seed ${seed}: old or new state`).toBe(true);
      if (finished) expect(isNew, `seed ${seed}: a finished restore is durable`).toBe(true);
      seen[isNew ? "new" : "old"]++;
      await reopened.close();
    }
    // Both outcomes occur, so the crash points span the restore.
    expect(seen.old).toBeGreaterThan(TRIALS / 10);
    expect(seen.new).toBeGreaterThan(TRIALS / 10);
    await source.close();
  }, 60_000);
});
