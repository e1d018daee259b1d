/**
 * Configuration of one Raft node, with etcd's defaults where etcd has one.
 */
import type { RaftLogger } from "./logger.js";
import { silentLogger } from "./logger.js";
import type { Rng } from "./rng.js";
import type { Storage } from "./storage.js";
import type { NodeId } from "./types.js";
import { NONE } from "./types.js";
import { assert } from "./util.js";

/** What a node needs to start. Only `id`, `storage` and `rng` are required. */
export interface RaftConfig {
  /** This node's id; never {@link NONE}. */
  readonly id: NodeId;
  /** The persisted log; its hard state and snapshot membership are the starting point. */
  readonly storage: Storage;
  /** Source of election-timeout jitter. Inject a seeded one for reproducible runs. */
  readonly rng: Rng;
  /** Ticks without hearing from a leader before campaigning (randomized in [n, 2n)). Default 10. */
  readonly electionTicks?: number;
  /** Ticks between leader heartbeats; must be < electionTicks. Default 1. */
  readonly heartbeatTicks?: number;
  /** The last index the application has applied (after a restart). Default: storage's snapshot index. */
  readonly applied?: number;
  /** Upper bound of entry bytes in one MsgApp (at least one entry is always sent). Default 1 MiB. */
  readonly maxMsgBytes?: number;
  /** Upper bound of unacknowledged MsgApps per follower in the replicate state. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Proposals are dropped while the leader's uncommitted tail exceeds this. Default 64 MiB. */
  readonly maxUncommittedBytes?: number;
  /** Upper bound of committed entry bytes in one Ready. Default 64 MiB. */
  readonly maxApplyBytes?: number;
  /** Leader steps down when it has not heard from a quorum for an election timeout. Default true. */
  readonly checkQuorum?: boolean;
  /** Run a pre-vote round before incrementing the term (thesis §9.6). Default true. */
  readonly preVote?: boolean;
  /** Drop proposals on followers instead of forwarding them to the leader. Default false. */
  readonly disableProposalForwarding?: boolean;
  /** Where state transitions are logged. Default: silent. */
  readonly logger?: RaftLogger;
}

/** A config with every default filled in. */
export type ResolvedConfig = Required<RaftConfig>;

/** Fills defaults and checks the config; a bad config is a programming error. */
export function resolveConfig(c: RaftConfig): ResolvedConfig {
  const resolved: ResolvedConfig = {
    electionTicks: 10,
    heartbeatTicks: 1,
    applied: 0,
    maxMsgBytes: 1024 * 1024,
    maxInflightMsgs: 256,
    maxUncommittedBytes: 64 * 1024 * 1024,
    maxApplyBytes: 64 * 1024 * 1024,
    checkQuorum: true,
    preVote: true,
    disableProposalForwarding: false,
    logger: silentLogger,
    ...c,
  };
  assert(resolved.id !== NONE, "cannot use none as id");
  assert(resolved.heartbeatTicks > 0, "heartbeatTicks must be greater than 0");
  assert(
    resolved.electionTicks > resolved.heartbeatTicks,
    "electionTicks must be greater than heartbeatTicks",
  );
  assert(resolved.maxInflightMsgs > 0, "maxInflightMsgs must be greater than 0");
  return resolved;
}
