import { SeededRng } from "@keyway/raft";
import { describe, expect, it } from "vitest";
import { type ApplyOutcome, StateMachine } from "../../src/apply/index.js";
import { type MemberStorage, openMemberStorage } from "../../src/proposal/member-storage.js";
import type { Proposal } from "../../src/proposal/proposer.js";
import { TEST_RAFT } from "../proposal/member.js";
import { MachineCrashed } from "./sim-disk.js";
import { SimMachine } from "./sim-machine.js";
import { type LoadState, randomRequest } from "./workload.js";

const TRIALS = Number(process.env.KEYWAY_CRASH_TRIALS ?? 700);
const FIRST_SEED = Number(process.env.KEYWAY_CRASH_SEED ?? 1);
/** Crash cycles per trial (each a crash at a random storage operation, or in recovery, or after the load). */
const CYCLES = 3;
/** Storage operations before the crash: drawn below this, so some crashes fall in recovery. */
const MAX_CRASH_STEP = 260;
const OPS_PER_CYCLE = 40;

const silent = { info: () => undefined, warn: () => undefined };

interface Proposed {
  request: Proposal;
  outcome: ApplyOutcome | undefined;
}

/** Opens the member on a machine, as server.ts does, with small segments and eager checkpoints. */
function open(machine: SimMachine, rng: SeededRng, fatal: Error[]): Promise<MemberStorage> {
  const immediates = rng.int(4);
  return openMemberStorage({
    stateMachine: { kv: machine.kv, minLeaseTtlSeconds: 2 },
    walDir: "/data/member/wal",
    walFs: machine.disk,
    walSegmentSizeBytes: 1024 + rng.int(4096),
    walSyncMode: rng.chance(0.5) ? "o_dsync" : "fdatasync",
    metadata: Buffer.from("member-1"),
    memberId: 1n,
    raft: TEST_RAFT,
    maxRequestBytes: 1 << 20,
    logger: silent,
    onFatal: (error) => fatal.push(error),
    checkpointEveryEntries: 1 + rng.int(40),
    commit: {
      maxPendingWrites: 1 + rng.int(40),
      // A commit a few event-loop turns later: lands between, or during, WAL writes.
      schedule: (task, delayMs) => {
        let turns = delayMs > 0 ? immediates : 0;
        let handle = setImmediate(function tick() {
          if (turns-- > 0) handle = setImmediate(tick);
          else task();
        });
        return () => clearImmediate(handle);
      },
    },
  });
}

/** Proposes the cycle's load in bursts until it is done or the machine crashes. */
async function runLoad(storage: MemberStorage, machine: SimMachine, rng: SeededRng, load: LoadState) {
  const proposed: Proposed[] = [];
  while (proposed.length < OPS_PER_CYCLE && !machine.crashed) {
    const burst = Array.from({ length: 1 + rng.int(6) }, () => {
      const entry: Proposed = { request: randomRequest(rng, load), outcome: undefined };
      proposed.push(entry);
      return storage.proposer.propose(entry.request).then(
        (outcome) => {
          entry.outcome = outcome;
        },
        () => undefined,
      );
    });
    await Promise.all(burst);
    load.revision = storage.stateMachine.currentRevision;
  }
  return proposed;
}

/** A summary of a state machine: what HashKV and the lease table say. */
async function summary(stateMachine: StateMachine) {
  const { hash, hashRevision, compactRevision } = await stateMachine.hashKV(0);
  const leases = stateMachine
    .allLeases()
    .map((lease) => `${lease.id}:${lease.ttlSeconds}:${[...lease.keys].sort()}`);
  return { hash, hashRevision, compactRevision, leases: leases.sort() };
}

/** One trial: crash cycles on one machine, each checked against a reference that never crashes. */
async function trial(seed: number): Promise<number> {
  const rng = new SeededRng(seed);
  const reference = StateMachine.open({ kv: SimMachine.boot().kv, minLeaseTtlSeconds: 2 });
  const load: LoadState = { leases: [], nextLeaseId: 1n, revision: 1 };
  let machine = SimMachine.boot(rng.int(MAX_CRASH_STEP));
  let referenceIndex = 0;
  let lastIndex = 0;
  /** Opens since `lastIndex` was known; each may have logged an empty entry before crashing. */
  let opensSince = 0;
  let crashes = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    crashes++;
    opensSince++;
    const fatal: Error[] = [];
    const storage = await open(machine, rng, fatal).catch((error: unknown) => {
      if (error instanceof MachineCrashed || machine.crashed) return undefined;
      throw error;
    });
    if (storage !== undefined) {
      // An open that crashed may have logged its term's empty entry.
      expect(storage.recovered.lastIndex, `seed ${seed}: recovered log`).toBeGreaterThanOrEqual(lastIndex);
      expect(storage.recovered.lastIndex, `seed ${seed}: recovered log`).toBeLessThanOrEqual(
        lastIndex + opensSince,
      );
      // Proposals follow the empty entry the new term starts with.
      const base = storage.recovered.lastIndex + 1;
      const proposed = await runLoad(storage, machine, rng, load);
      machine.crash();
      if (
        fatal.length > 0 &&
        !(fatal[0]?.cause instanceof MachineCrashed || fatal[0] instanceof MachineCrashed)
      ) {
        expect.fail(`seed ${seed}: member failed without a crash: ${fatal[0]?.stack}`);
      }
      // Recover on a machine that does not crash, and compare with the reference.
      machine = machine.reboot(rng);
      const recovered = await open(machine, rng, fatal);
      const survivors = Math.max(0, recovered.recovered.lastIndex - base);
      const acked = proposed.findIndex((entry) => entry.outcome === undefined);
      const ackedCount = acked === -1 ? proposed.length : acked;
      expect(
        proposed.slice(ackedCount).every((entry) => entry.outcome === undefined),
        `seed ${seed}: acks in log order`,
      ).toBe(true);
      expect(survivors, `seed ${seed}: every acknowledged write survives`).toBeGreaterThanOrEqual(ackedCount);
      expect(survivors, `seed ${seed}: nothing beyond what was proposed`).toBeLessThanOrEqual(
        proposed.length,
      );
      const outcomes = reference.applyBatch(
        proposed.slice(0, survivors).map((entry) => ({
          index: ++referenceIndex,
          term: 1,
          request: { id: BigInt(referenceIndex), request: entry.request },
        })),
      );
      for (const [i, entry] of proposed.slice(0, ackedCount).entries()) {
        expect(outcomeSummary(entry.outcome), `seed ${seed}: acknowledged answer ${i}`).toEqual(
          outcomeSummary(outcomes[i]),
        );
      }
      expect(await summary(recovered.stateMachine), `seed ${seed}: recovered state`).toEqual(
        await summary(reference),
      );
      lastIndex = recovered.recovered.lastIndex + 1;
      opensSince = 0;
      load.revision = recovered.stateMachine.currentRevision;
      await recovered.close();
    }
    machine = machine.reboot(rng, rng.int(MAX_CRASH_STEP));
  }
  await reference.close();
  return crashes;
}

function outcomeSummary(outcome: ApplyOutcome | undefined) {
  if (outcome === undefined) return undefined;
  if (!outcome.ok) return { error: outcome.error.reason };
  return { revision: outcome.response.header?.revision };
}

describe("a member on a simulated machine that crashes", () => {
  it(`recovers exactly the acknowledged state at every crash point (${TRIALS} trials x ${CYCLES} cycles)`, async () => {
    let crashes = 0;
    for (let seed = FIRST_SEED; seed < FIRST_SEED + TRIALS; seed++) crashes += await trial(seed);
    expect(crashes).toBe(TRIALS * CYCLES);
  }, 120_000);
});
