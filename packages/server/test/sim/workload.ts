/**
 * The write load of the machine-crash test: seeded puts, deletes, txns, lease grants and revokes,
 * and compactions, with the keys few enough that requests interact.
 */
import type { SeededRng } from "@keyway/raft";
import type { Proposal } from "../../src/proposal/proposer.js";
import { op, req } from "../apply/harness.js";

const KEYS = ["a", "b", "c", "d", "e", "f"];

/** What the load generator knows of the member it writes to. */
export interface LoadState {
  /** Lease ids granted so far (some may be revoked). */
  leases: bigint[];
  nextLeaseId: bigint;
  /** A revision the member has reached (for compactions). */
  revision: number;
}

/** One random request. */
export function randomRequest(rng: SeededRng, state: LoadState): Proposal {
  const key = KEYS[rng.int(KEYS.length)] as string;
  const value = `v${rng.int(1000)}`.repeat(1 + rng.int(20));
  const lease =
    state.leases.length > 0 && rng.chance(0.3) ? (state.leases[rng.int(state.leases.length)] as bigint) : 0n;
  const pick = rng.int(100);
  if (pick < 45) return req.put(key, value, { lease });
  if (pick < 55) return rng.chance(0.5) ? req.del(key) : req.del(key, "d");
  if (pick < 75) {
    return req.txn({
      compare: [
        {
          key: Buffer.from(key),
          target: 0,
          result: 0,
          targetUnion: { $case: "version", version: BigInt(rng.int(3)) },
        },
      ],
      success: [op.put(key, value), op.del(KEYS[rng.int(KEYS.length)] as string)],
      failure: [op.put(`${key}-failed`, value), op.range(key)],
    });
  }
  if (pick < 85) {
    const id = state.nextLeaseId++;
    state.leases.push(id);
    return req.grant(id, 2 + rng.int(100));
  }
  if (pick < 93 && state.leases.length > 0)
    return req.revoke(state.leases[rng.int(state.leases.length)] as bigint);
  return req.compact(1 + rng.int(Math.max(1, state.revision)));
}
