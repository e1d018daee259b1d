import { join } from "node:path";
import { type MemberStorage, openMemberStorage } from "../../src/proposal/member-storage.js";

const silent = { info: () => undefined, warn: () => undefined };

/** What a test may change about the member it opens. */
export interface TestMemberOptions {
  maxInFlightBytes?: number;
  onFatal?: (error: Error) => void;
}

/**
 * Opens a one-member write path (real WAL, real LMDB state machine) in `dir`, as server.ts does:
 * Raft with this member as the only voter.
 */
export function openTestMember(dir: string, options: TestMemberOptions = {}): Promise<MemberStorage> {
  return openMemberStorage({
    stateMachine: { dir: join(dir, "db"), minLeaseTtlSeconds: 2 },
    walDir: join(dir, "wal"),
    metadata: Buffer.from("test-member"),
    memberId: 1n,
    raft: TEST_RAFT,
    maxRequestBytes: 1024,
    ...(options.maxInFlightBytes !== undefined && { maxInFlightBytes: options.maxInFlightBytes }),
    logger: silent,
    onFatal:
      options.onFatal ??
      ((error) => {
        throw error;
      }),
  });
}

/** Raft settings of a one-member test cluster (member id 1). */
export const TEST_RAFT = { initialVoters: [1n], tickMs: 100, electionTicks: 10, requestTimeoutMs: 7_000 };
