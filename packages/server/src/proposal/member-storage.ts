import { StateMachine, type StateMachineOptions } from "../apply/index.js";
import { Wal, type WalFs, type WalLogger, type WalSyncMode } from "../wal/index.js";
import { BackendCommitter, type BackendCommitterOptions } from "./backend-committer.js";
import { Checkpointer } from "./checkpoint.js";
import { Proposer } from "./proposer.js";
import { replayWal } from "./recovery.js";

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
  /** The vote recorded in the hard state (one member votes for itself). */
  memberId: bigint;
  maxRequestBytes: number;
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
  /** Term of this run (a restart is a new term). */
  term: number;
  /** Last index in the log and entries re-applied from the WAL. */
  recovered: { lastIndex: number; replayed: number; walEntries: number };
  /**
   * Drains proposals, waits for a checkpoint in progress, closes the WAL, commits the backend
   * and closes it.
   */
  close(): Promise<void>;
}

/**
 * Opens the backend and the WAL, replays the entries the durable backend has not seen, starts a
 * new term, and wires the proposer to the background backend commits and checkpoints.
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
    recovered = replayWal(replay.entries, stateMachine, replay.snapshot?.index ?? 0);
    // One member wins every election at once: a restart is a new term, as with etcd.
    const term = (replay.hardState?.term ?? 0) + 1;
    await wal.append({ hardState: { term, vote: options.memberId, commit: recovered.lastIndex } });
    return wire(options, stateMachine, wal, term, { ...recovered, walEntries: replay.entries.length });
  } catch (error) {
    await wal.close();
    await stateMachine.close();
    throw error;
  }
}

function wire(
  options: MemberStorageOptions,
  stateMachine: StateMachine,
  wal: Wal,
  term: number,
  recovered: MemberStorage["recovered"],
): MemberStorage {
  let fatal = false;
  const onFatal = (error: Error) => {
    if (fatal) return;
    fatal = true;
    options.onFatal(error);
  };
  const checkpointer = new Checkpointer(wal, stateMachine, onFatal, options.checkpointEveryEntries);
  const committer = new BackendCommitter(stateMachine, { ...options.commit, onError: onFatal });
  const proposer = new Proposer(wal, stateMachine, {
    nextIndex: recovered.lastIndex + 1,
    term,
    maxRequestBytes: options.maxRequestBytes,
    onFatal,
    onApplied: () => {
      committer.applied();
      checkpointer.applied();
    },
  });
  // Replayed entries wait in the write buffer; commit them in the background, not before serving.
  committer.applied();
  return {
    stateMachine,
    wal,
    proposer,
    term,
    recovered,
    async close() {
      await proposer.drain();
      await checkpointer.idle();
      await committer.close();
      await wal.close();
      await stateMachine.close();
    },
  };
}
