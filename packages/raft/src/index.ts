/**
 * @keyway/raft: the Raft consensus core as a pure, synchronous state machine. No timers, sockets,
 * files or ambient randomness: the application drives it with ticks and messages and carries out
 * each {@link Ready}. See docs/raft.md.
 */
export { decodeConfChange, encodeConfChange } from "./conf-change.js";
export type { RaftConfig } from "./config.js";
export {
  describeEntry,
  describeHardState,
  describeMessage,
  describeReady,
  describeSnapshot,
  describeSoftState,
} from "./describe.js";
export type { RaftLogger } from "./logger.js";
export { silentLogger } from "./logger.js";
export type { ProgressState } from "./progress.js";
export type { ProgressStatus, Status } from "./raw-node.js";
export { RawNode } from "./raw-node.js";
export type { Rng } from "./rng.js";
export { SeededRng } from "./rng.js";
export type { Storage } from "./storage.js";
export { EMPTY_CONF_STATE, MemoryStorage } from "./storage.js";
export type {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NodeId,
  RaftErrorReason,
  RaftRole,
  ReadState,
  Ready,
  Snapshot,
  SnapshotMetadata,
  SoftState,
} from "./types.js";
export { NONE } from "./types.js";
export { RaftInvariantError } from "./util.js";
