/**
 * A recorded history: what every client asked, when, and what it was told. The checkers judge a
 * history alone, so everything they need (revisions, lease ids, the outcome of each call) is here.
 *
 * Times are `process.hrtime.bigint()` nanoseconds: CLOCK_MONOTONIC is one clock for every process
 * on the machine, so histories recorded by several client processes merge by time.
 */

/** A key-value pair as a read or a watch event returned it. Keys and values are UTF-8 strings. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: bigint;
  readonly modRevision: bigint;
  readonly version: bigint;
  /** 0n when the key has no lease. */
  readonly lease: bigint;
}

/** One client call, modelled on the operations of etcd's robustness traffic. */
export type Operation =
  | { readonly kind: "get"; readonly key: string; readonly serializable?: boolean }
  | { readonly kind: "range"; readonly start: string; readonly end: string; readonly limit?: number }
  | { readonly kind: "put"; readonly key: string; readonly value: string; readonly lease?: bigint }
  | { readonly kind: "delete"; readonly key: string }
  /** A txn: if the key's mod revision equals `expectModRevision` (0n: the key is absent), put; else get. */
  | { readonly kind: "cas"; readonly key: string; readonly expectModRevision: bigint; readonly value: string }
  | { readonly kind: "leaseGrant"; readonly ttlSeconds: number }
  | { readonly kind: "leaseRevoke"; readonly lease: bigint };

/** What a successful call returned; `revision` is the response header's revision. */
export type Result =
  | { readonly kind: "get"; readonly revision: bigint; readonly kv: KeyValue | undefined }
  | {
      readonly kind: "range";
      readonly revision: bigint;
      readonly kvs: readonly KeyValue[];
      readonly count: bigint;
    }
  | { readonly kind: "put"; readonly revision: bigint }
  | { readonly kind: "delete"; readonly revision: bigint; readonly deleted: bigint }
  | {
      readonly kind: "cas";
      readonly revision: bigint;
      readonly succeeded: boolean;
      readonly kv: KeyValue | undefined;
    }
  | { readonly kind: "leaseGrant"; readonly revision: bigint; readonly lease: bigint }
  | { readonly kind: "leaseRevoke"; readonly revision: bigint };

/**
 * How a call ended. `failed` means it certainly took no effect (the server refused it before
 * applying, e.g. a precondition error); `unknown` means it may or may not have taken effect
 * (a timeout, a lost connection after sending): the checker must allow both.
 */
export type Outcome =
  | { readonly status: "ok"; readonly result: Result }
  | { readonly status: "failed"; readonly error: string }
  | { readonly status: "unknown"; readonly error: string };

/** One call with its invoke and return times. */
export interface OperationRecord {
  /** Unique within the history. */
  readonly id: number;
  /** The client (connection or process) that made the call; a client makes one call at a time. */
  readonly client: number;
  readonly invokeNs: bigint;
  /** When the answer arrived, or when the client gave up waiting (an `unknown` outcome). */
  readonly returnNs: bigint;
  readonly operation: Operation;
  readonly outcome: Outcome;
}

/** An event as a watch stream delivered it. */
export interface WatchEventRecord {
  readonly type: "put" | "delete";
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}

/** One WatchResponse as received. */
export interface WatchResponseRecord {
  readonly receivedNs: bigint;
  /** The response header's revision. */
  readonly revision: bigint;
  readonly events: readonly WatchEventRecord[];
  /** Set when the server reported the start revision compacted. */
  readonly compactRevision?: bigint;
  readonly canceled?: boolean;
  /** A progress notification (no events). */
  readonly progressNotify?: boolean;
  /** The response that confirmed the watch's creation. */
  readonly created?: boolean;
}

/** One watch, from its request to its last response. */
export interface WatchRecord {
  readonly client: number;
  readonly key: string;
  /** Range end as etcd takes it ("" = the key alone, "\0" = every key from `key`). */
  readonly rangeEnd: string;
  /** 0n = from the current revision. */
  readonly startRevision: bigint;
  readonly prevKv: boolean;
  readonly responses: readonly WatchResponseRecord[];
}

/** A whole run: enough to judge it, and the seed and scenario that replay it. */
export interface History {
  readonly seed: number;
  readonly scenario: string;
  /**
   * The keyspace as read before the first operation (revision and key-values). Absent: a fresh
   * store (revision 1, no keys). The checker starts its model here, so nothing else may write the
   * cluster during a run.
   */
  readonly initial?: { readonly revision: bigint; readonly kvs: readonly KeyValue[] };
  readonly operations: readonly OperationRecord[];
  readonly watches: readonly WatchRecord[];
  /** The faults injected while the history was recorded (absent: none, or not recorded). */
  readonly faults?: readonly FaultRecord[];
}

/** One fault action of a run, logged when it was taken. */
export interface FaultRecord {
  /** `process.hrtime.bigint()` when the action was taken (the operations' clock). */
  readonly atNs: bigint;
  /** e.g. `kill`, `restart`, `pause`, `resume`, `drop-in`, `drop-out`, `heal`. */
  readonly action: string;
  /** Member indices the action acted on. */
  readonly members: readonly number[];
  /** Peers whose traffic a drop affects, and why a member was chosen (e.g. "leader"). */
  readonly detail?: string;
}
