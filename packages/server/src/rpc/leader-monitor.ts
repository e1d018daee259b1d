import type { Metadata } from "@grpc/grpc-js";

/** Election timeouts without a leader after which require-leader streams are cancelled (etcd's maxNoLeaderCnt). */
export const MAX_NO_LEADER_TIMEOUTS = 3;

/**
 * etcd's monitorLeader for streams that ask for a leader (gRPC metadata `hasleader: true`, set by
 * Go's clientv3.WithRequireLeader on watches and keep-alives): such a stream is refused while the
 * member has no leader, and cancelled with `no leader` once it has had none for three election
 * timeouts in a row, so an ordinary election of a second or two does not break it.
 */
export class LeaderMonitor {
  private readonly streams = new Set<() => void>();
  private noLeaderTicks = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly leader: () => bigint,
    electionTimeoutMs: number,
  ) {
    this.timer = setInterval(() => this.check(), electionTimeoutMs);
    this.timer.unref();
  }

  /** Whether the stream with this metadata asks for a leader. */
  static requiresLeader(metadata: Metadata): boolean {
    return metadata.get("hasleader")[0] === "true";
  }

  /** Whether the member follows a leader now. */
  hasLeader(): boolean {
    return this.leader() !== 0n;
  }

  /** Cancels the stream with `cancel` if the member stays leaderless; returns the untrack. */
  track(cancel: () => void): () => void {
    this.streams.add(cancel);
    return () => this.streams.delete(cancel);
  }

  close(): void {
    clearInterval(this.timer);
    this.streams.clear();
  }

  private check(): void {
    if (this.hasLeader()) {
      this.noLeaderTicks = 0;
      return;
    }
    if (++this.noLeaderTicks < MAX_NO_LEADER_TIMEOUTS) return;
    const cancels = [...this.streams];
    this.streams.clear();
    for (const cancel of cancels) cancel();
  }
}
