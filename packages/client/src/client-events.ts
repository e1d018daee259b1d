/** Status events of a client (eventemitter3). Streams of data are AsyncIterables, not events. */
export interface ClientEvents {
  /** An endpoint that was down answers again. */
  "endpoint-up": (url: string) => void;
  /** An endpoint failed at the transport level; calls avoid it until a probe succeeds. */
  "endpoint-down": (url: string, cause: unknown) => void;
  /** A response carried a higher Raft term than any seen before: a leader election happened. */
  "leader-changed": (info: { raftTerm: bigint; memberId: bigint }) => void;
  /** Endpoint auto-sync replaced the endpoint list. */
  "endpoints-changed": (urls: readonly string[]) => void;
}
