import { etcdserverpb } from "@keyway/api";
import type { StateMachine } from "../apply/index.js";
import { ETCD_API_VERSION } from "../config.js";
import { fillHeader, type HeaderSource } from "./header.js";
import { type ServiceHandlers, unary } from "./unary.js";

/** etcd's default backend quota (`--quota-backend-bytes`), reported by Status. */
const QUOTA_BACKEND_BYTES = 2n * 1024n * 1024n * 1024n;

/** The Raft node's state as Status reports it (server.ts answers from the proposer). */
export interface RaftStatusSource {
  /** The leader's member id, 0n when there is none. */
  leader(): bigint;
  /** The last index of the Raft log. */
  raftIndex(): number;
  /** The current Raft term. */
  raftTerm(): number;
  /** The last applied log index. */
  appliedIndex(): number;
  /** Whether this member is a learner. */
  isLearner(): boolean;
  /**
   * etcd's MoveLeader: hands leadership to `target` and resolves once it leads; `not leader` on a
   * follower, `bad leader transferee` for a target that is not a voter.
   */
  moveLeader(target: bigint): Promise<void>;
}

/** What the Maintenance service needs from the member. */
export interface MaintenanceDeps {
  stateMachine: StateMachine;
  raft: RaftStatusSource;
  header: HeaderSource;
}

/**
 * etcd's Maintenance service for one member. Snapshot and Downgrade are not served yet (the
 * compatibility table says so); gRPC answers UNIMPLEMENTED for them.
 */
export function maintenanceService(
  deps: MaintenanceDeps,
): ServiceHandlers<
  etcdserverpb.MaintenanceServer,
  "status" | "alarm" | "defragment" | "hash" | "hashKv" | "moveLeader"
> {
  const { stateMachine, raft, header } = deps;
  const head = () => fillHeader(header, undefined);
  return {
    status: unary(() => {
      const size = stateMachine.dbSize();
      return etcdserverpb.StatusResponse.fromPartial({
        header: head(),
        version: ETCD_API_VERSION,
        dbSize: BigInt(size.totalBytes),
        dbSizeInUse: BigInt(size.inUseBytes),
        leader: raft.leader(),
        raftIndex: BigInt(raft.raftIndex()),
        raftTerm: BigInt(raft.raftTerm()),
        raftAppliedIndex: BigInt(raft.appliedIndex()),
        dbSizeQuota: QUOTA_BACKEND_BYTES,
        isLearner: raft.isLearner(),
        // etcd 3.4 fills errors with the active alarms only, and no alarm can be raised yet.
        errors: [],
      });
    }),
    // No alarm can be raised yet: the quota check and corruption checks come with later work.
    alarm: unary(() => etcdserverpb.AlarmResponse.fromPartial({ header: head(), alarms: [] })),
    // LMDB reuses freed pages in place, so there is nothing to give back; answer as etcd does on success.
    defragment: unary(() => etcdserverpb.DefragmentResponse.fromPartial({ header: head() })),
    hash: unary(async () => {
      const header = head();
      const { hash } = await stateMachine.hashKV(0);
      return etcdserverpb.HashResponse.fromPartial({ header, hash });
    }),
    hashKv: unary(async (request) => {
      const header = head();
      const result = await stateMachine.hashKV(Number(request.revision));
      return etcdserverpb.HashKVResponse.fromPartial({
        header,
        hash: result.hash,
        compactRevision: BigInt(result.compactRevision),
        hashRevision: BigInt(result.hashRevision),
      });
    }),
    moveLeader: unary(async (request) => {
      await raft.moveLeader(request.targetID);
      return etcdserverpb.MoveLeaderResponse.fromPartial({ header: head() });
    }),
  };
}
