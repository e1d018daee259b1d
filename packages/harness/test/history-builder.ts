import type {
  History,
  KeyValue,
  Operation,
  OperationRecord,
  Outcome,
  Result,
  WatchEventRecord,
  WatchRecord,
  WatchResponseRecord,
} from "../src/index.js";

/** A key-value for hand-built histories. */
export function kv(
  key: string,
  value: string,
  create: number,
  mod: number,
  version: number,
  lease = 0n,
): KeyValue {
  return {
    key,
    value,
    createRevision: BigInt(create),
    modRevision: BigInt(mod),
    version: BigInt(version),
    lease,
  };
}

/** A delete event's key-value as etcd sends it. */
export function tomb(key: string, revision: number): KeyValue {
  return kv(key, "", 0, revision, 0);
}

/** Builds histories by hand: sequential calls, or calls with explicit times (ns). */
export class HistoryBuilder {
  readonly operations: OperationRecord[] = [];
  readonly watches: WatchRecord[] = [];
  private clock = 0n;

  /** A call that starts after every earlier one returned. */
  seq(operation: Operation, outcome: Result | Outcome, client = 0): this {
    const invoke = this.clock + 1n;
    return this.at(invoke, invoke + 1n, operation, outcome, client);
  }

  /** A call with explicit invoke and return times. */
  at(invokeNs: bigint, returnNs: bigint, operation: Operation, outcome: Result | Outcome, client = 0): this {
    const wrapped: Outcome = "status" in outcome ? outcome : { status: "ok", result: outcome };
    this.operations.push({
      id: this.operations.length,
      client,
      invokeNs,
      returnNs,
      operation,
      outcome: wrapped,
    });
    if (returnNs > this.clock) this.clock = returnNs;
    return this;
  }

  /**
   * A watch over every key from "k" on, with prev_kv, receiving `responses`: lists of events, or
   * `{ progress: R }` for a progress notification at revision R.
   */
  watch(
    startRevision: number,
    responses: readonly (readonly WatchEventRecord[] | { progress: number })[],
  ): this {
    const records = responses.map((r): WatchResponseRecord => {
      if ("progress" in r)
        return { receivedNs: 0n, revision: BigInt(r.progress), events: [], progressNotify: true };
      return { receivedNs: 0n, revision: r.at(-1)?.kv.modRevision ?? 0n, events: r };
    });
    this.watches.push({
      client: 9,
      key: "k",
      rangeEnd: "\u0000",
      startRevision: BigInt(startRevision),
      prevKv: true,
      responses: records,
    });
    return this;
  }

  /** The history (seed 7, scenario "unit"). */
  build(): History {
    return { seed: 7, scenario: "unit", operations: this.operations, watches: this.watches };
  }
}

/** A put event. */
export function putEvent(value: KeyValue, prevKv?: KeyValue): WatchEventRecord {
  return prevKv === undefined ? { type: "put", kv: value } : { type: "put", kv: value, prevKv };
}

/** A delete event. */
export function deleteEvent(key: string, revision: number, prevKv?: KeyValue): WatchEventRecord {
  return prevKv === undefined
    ? { type: "delete", kv: tomb(key, revision) }
    : { type: "delete", kv: tomb(key, revision), prevKv };
}
