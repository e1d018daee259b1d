import { type ConfState, type Entry, MemoryStorage, type RaftLogger, RawNode, SeededRng } from "@keyway/raft";
import { StateMachine, type StateMachineOptions } from "../apply/index.js";
import { IdGenerator } from "../member/id-generator.js";
import {
  Wal,
  type WalEntry,
  type WalFs,
  type WalLogger,
  type WalReplay,
  type WalSyncMode,
} from "../wal/index.js";
import { BackendCommitter, type BackendCommitterOptions } from "./backend-committer.js";
import { Checkpointer } from "./checkpoint.js";
import { type MessageSink, Proposer } from "./proposer.js";
import { replayWal } from "./recovery.js";

/** How long closing waits for proposals in flight before failing them. */
const CLOSE_GRACE_MS = 5_000;

/** How the member takes part in Raft. */
export interface MemberRaftOptions {
  /**
   * The voters of a new cluster (every founding member's id, this one's included), used when the
   * WAL is created; a restarted member takes its membership from the WAL.
   */
  initialVoters: readonly bigint[];
  /** Where messages to other members go; default: nowhere (a member alone in its cluster). */
  peers?: MessageSink;
  /** One tick in ms (etcd's --heartbeat-interval). */
  tickMs: number;
  /** Ticks without a leader before an election (etcd's --election-timeout / --heartbeat-interval). */
  electionTicks: number;
  /** How long a proposal or linearizable read may wait before `request timed out`. */
  requestTimeoutMs: number;
  logger?: RaftLogger;
}

/** Options of {@link openMemberStorage}. */
export interface MemberStorageOptions {
  /** The state machine and its backend (LMDB `dir`, or an injected `kv`). */
  stateMachine: StateMachineOptions;
  walDir: string;
  /** Default the real file system. */
  walFs?: WalFs;
  walSegmentSizeBytes?: number;
  /** Default `o_dsync` (measured faster with one client: docs/benchmarks.md). */
  walSyncMode?: WalSyncMode;
  /** Member and cluster id at the head of every WAL segment; a WAL naming others refuses to open. */
  metadata: Uint8Array;
  memberId: bigint;
  raft: MemberRaftOptions;
  maxRequestBytes: number;
  /** Encoded proposal bytes in flight before `too many requests` (default 64 MiB). */
  maxInFlightBytes?: number;
  logger: WalLogger;
  /** Called once when durability can no longer be promised (WAL, apply or backend failure). */
  onFatal(error: Error): void;
  onFsync?: (durationSeconds: number) => void;
  /** Default CHECKPOINT_EVERY_ENTRIES. */
  checkpointEveryEntries?: number;
  /** Background commit policy (interval, batch size, scheduler). */
  commit?: Omit<BackendCommitterOptions, "onError">;
}

/** The write path of one member, recovered and ready: WAL, state machine, proposer, background jobs. */
export interface MemberStorage {
  stateMachine: StateMachine;
  wal: Wal;
  proposer: Proposer;
  /** Last index in the log and entries re-applied from the WAL before Raft started. */
  recovered: { lastIndex: number; replayed: number; walEntries: number };
  /**
   * Drains proposals, waits for a checkpoint in progress, closes the WAL, commits the backend
   * and closes it.
   */
  close(): Promise<void>;
}

/**
 * Opens the backend and the WAL, replays the committed entries the durable backend has not seen,
 * starts the Raft node, and wires the proposer to the background backend commits and checkpoints.
 */
export async function openMemberStorage(options: MemberStorageOptions): Promise<MemberStorage> {
  const stateMachine = StateMachine.open(options.stateMachine);
  let opened: Awaited<ReturnType<typeof Wal.open>>;
  try {
    opened = await Wal.open({
      dir: options.walDir,
      logger: options.logger,
      metadata: options.metadata,
      ...(options.walFs && { fs: options.walFs }),
      ...(options.walSegmentSizeBytes && { segmentSizeBytes: options.walSegmentSizeBytes }),
      syncMode: options.walSyncMode ?? "o_dsync",
      ...(options.onFsync && { onFsync: options.onFsync }),
    });
  } catch (error) {
    await stateMachine.close();
    throw error;
  }
  const { wal, replay } = opened;
  let recovered: { lastIndex: number; replayed: number };
  try {
    if (replay.metadata !== undefined && !Buffer.from(options.metadata).equals(replay.metadata)) {
      throw new Error(
        `${options.walDir}: the WAL belongs to another member or cluster than identity.json names`,
      );
    }
    // Entries up to the durable commit index are applied before serving; later ones may still be
    // replaced by a new leader's, so they wait for Raft to commit them.
    const commit = replay.hardState?.commit ?? 0;
    recovered = replayWal(
      replay.entries.filter((entry) => entry.index <= commit),
      stateMachine,
      replay.snapshot?.index ?? 0,
    );
    const lastIndex = replay.entries.at(-1)?.index ?? replay.snapshot?.index ?? 0;
    const start = await startRaft(options, wal, replay);
    const member = wire(options, stateMachine, wal, start, {
      ...recovered,
      lastIndex,
      walEntries: replay.entries.length,
    });
    if (member.proposer.isSoleVoter) {
      // It leads at once: serve only once the whole log, and the new term's empty entry, is
      // applied, so a restarted one-member cluster answers with everything it acknowledged.
      member.proposer.campaign();
      await member.proposer.appliedUpTo(lastIndex + 1);
    } else {
      // As etcd, a starting member fast-forwards to one tick short of its election timeout, so
      // a cluster that starts (or restarts) together elects within one timeout.
      member.proposer.advanceTicks(options.raft.electionTicks - 1);
    }
    return member;
  } catch (error) {
    await wal.close();
    await stateMachine.close();
    throw error;
  }
}

/** The Raft node over the recovered log, and the membership it starts with. */
interface RaftStart {
  node: RawNode;
  log: MemoryStorage;
  confState: ConfState;
}

/**
 * Builds the node's storage from the WAL: the snapshot marker (with the membership at its
 * index), the entries after it and the hard state. A new WAL gets a marker at index 0 holding
 * the initial voters, so every founding member starts from the same membership and a restart
 * finds it again. The node restarts at the marker: entries after it are handed out again so
 * membership changes are re-applied (the backend skips those it holds).
 */
async function startRaft(options: MemberStorageOptions, wal: Wal, replay: WalReplay): Promise<RaftStart> {
  const { raft } = options;
  const marker = replay.snapshot;
  const initial = { voters: [...raft.initialVoters], learners: [] };
  if (replay.metadata === undefined)
    await wal.append({ snapshot: { index: 0, term: 0, confState: initial } });
  const confState = marker?.confState ?? initial;
  const log = new MemoryStorage({
    data: new Uint8Array(0),
    metadata: { index: marker?.index ?? 0, term: marker?.term ?? 0, confState },
  });
  log.append(replay.entries.map(fromWalEntry));
  if (replay.hardState !== undefined) log.setHardState(replay.hardState);
  const node = new RawNode({
    id: options.memberId,
    storage: log,
    rng: new SeededRng(Number(BigInt.asUintN(32, options.memberId)) ^ Date.now()),
    electionTicks: raft.electionTicks,
    heartbeatTicks: 1,
    applied: marker?.index ?? 0,
    ...(raft.logger && { logger: raft.logger }),
  });
  return { node, log, confState };
}

function fromWalEntry(entry: WalEntry): Entry {
  return {
    index: entry.index,
    term: entry.term,
    type: entry.confChange ? "confChange" : "normal",
    data: entry.data,
  };
}

function wire(
  options: MemberStorageOptions,
  stateMachine: StateMachine,
  wal: Wal,
  raft: RaftStart,
  recovered: MemberStorage["recovered"],
): MemberStorage {
  let fatal = false;
  const onFatal = (error: Error) => {
    if (fatal) return;
    fatal = true;
    options.onFatal(error);
  };
  let proposer: Proposer | undefined;
  const checkpointer = new Checkpointer(
    wal,
    stateMachine,
    (index) => proposer?.confStateAt(index) ?? raft.confState,
    (index) => proposer?.compactLog(index),
    onFatal,
    options.checkpointEveryEntries,
  );
  const committer = new BackendCommitter(stateMachine, { ...options.commit, onError: onFatal });
  proposer = new Proposer({
    memberId: options.memberId,
    node: raft.node,
    log: raft.log,
    wal,
    stateMachine,
    confState: raft.confState,
    peers: options.raft.peers ?? { send: () => undefined },
    ids: new IdGenerator(options.memberId, Date.now()),
    now: () => performance.now(),
    tickMs: options.raft.tickMs,
    requestTimeoutMs: options.raft.requestTimeoutMs,
    maxRequestBytes: options.maxRequestBytes,
    ...(options.maxInFlightBytes !== undefined && { maxInFlightBytes: options.maxInFlightBytes }),
    onFatal,
    logger: options.logger,
    onApplied: () => {
      committer.applied();
      checkpointer.applied();
    },
  });
  // Replayed entries wait in the write buffer; commit them in the background, not before serving.
  committer.applied();
  const started = proposer;
  return {
    stateMachine,
    wal,
    proposer: started,
    recovered,
    async close() {
      await started.close(CLOSE_GRACE_MS);
      await checkpointer.idle();
      await committer.close();
      await wal.close();
      await stateMachine.close();
    },
  };
}
