/** What the cluster runs: real etcd 3.4 or Keyway. */
export type Target = "etcd" | "keyway";

/** One member of a cluster the harness started. */
export interface ClusterMember {
  /** `m0`, `m1`, ... (also the etcd member name). */
  readonly name: string;
  /** Client URL the host reaches the member at. */
  readonly endpoint: string;
}

/** Which way a network fault drops a member's peer traffic. */
export type Direction = "in" | "out";

/**
 * A running cluster and the faults it can suffer. Indices are member indices. Every method acts
 * on processes and networks the harness itself started; none touches anything else.
 */
export interface Cluster extends AsyncDisposable {
  readonly target: Target;
  /** `container`: one Docker container per member; `process`: plain processes and TCP proxies. */
  readonly mode: "container" | "process";
  readonly members: readonly ClusterMember[];
  /** Client URLs of all members, in order. */
  readonly endpoints: readonly string[];
  /** kill -9: no shutdown path runs. */
  kill(index: number): Promise<void>;
  /** Starts a killed member again on its own data dir and waits until it serves. */
  restart(index: number): Promise<void>;
  /** Freezes every process of the member (SIGSTOP / cgroup freezer). */
  pause(index: number): Promise<void>;
  /** Thaws a paused member. */
  resume(index: number): Promise<void>;
  /**
   * Drops the member's peer traffic with the members `peers` in one direction (`in`: what they
   * send to it, `out`: what it sends to them). Client traffic is left alone.
   */
  dropPeers(index: number, peers: readonly number[], direction: Direction): Promise<void>;
  /** Removes every drop rule (a killed member's rules went with it). */
  heal(): Promise<void>;
  /** Stops and removes everything the cluster started (processes, containers, network, data). */
  close(): Promise<void>;
}

/** Options every cluster mode takes. */
export interface ClusterOptions {
  readonly target: Target;
  /** Members, 1 to 5. */
  readonly members: number;
  /** Seeds the choice of names and addresses, so reruns collide less. */
  readonly seed?: number;
}
