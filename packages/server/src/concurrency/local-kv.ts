import { etcdserverpb } from "@keyway/api";
import { isReadOnlyTxn, type StateMachine } from "../apply/index.js";
import type { Proposer } from "../proposal/proposer.js";
import { expectOk } from "../rpc/outcome.js";
import { type EventListener, EventRouter } from "./event-router.js";

/** A request operation inside a txn built by the server itself. */
export type TxnOp = etcdserverpb.RequestOp["request"];

/**
 * The member's own KV, as the Lock and Election services use it: what etcd reaches through its
 * in-process v3client, without the gRPC round trip. Writes go through the proposer (the same log
 * as every client write); reads come from the applied state.
 */
export class LocalKv {
  private readonly router = new EventRouter();

  constructor(
    private readonly stateMachine: StateMachine,
    private readonly proposer: Proposer,
  ) {
    stateMachine.onEvents(this.router.onEvents);
  }

  /** A linearizable range at the latest applied revision. */
  range(request: Partial<etcdserverpb.RangeRequest>): etcdserverpb.RangeResponse {
    return this.stateMachine.range(etcdserverpb.RangeRequest.fromPartial(request));
  }

  /** `if (compare) then success else failure`, through the log unless it only reads. */
  async txn(
    compare: etcdserverpb.Compare[],
    success: TxnOp[],
    failure: TxnOp[],
  ): Promise<etcdserverpb.TxnResponse> {
    const wrap = (ops: TxnOp[]) => ops.map((request) => ({ request }));
    const request = etcdserverpb.TxnRequest.fromPartial({
      compare,
      success: wrap(success),
      failure: wrap(failure),
    });
    if (isReadOnlyTxn(request)) return this.stateMachine.readTxn(request);
    return expectOk(await this.proposer.propose({ $case: "txn", txn: request })) as etcdserverpb.TxnResponse;
  }

  /** Deletes one key. */
  async delete(key: Buffer): Promise<etcdserverpb.DeleteRangeResponse> {
    const deleteRange = etcdserverpb.DeleteRangeRequest.fromPartial({ key });
    return expectOk(
      await this.proposer.propose({ $case: "deleteRange", deleteRange }),
    ) as etcdserverpb.DeleteRangeResponse;
  }

  /**
   * Calls `listener` with every event of `key` applied from now on, until the returned function
   * is called. Subscribing right after a synchronous read misses nothing: the read saw every
   * revision applied so far, the listener gets every later one.
   */
  onKey(key: Buffer, listener: EventListener): () => void {
    return this.router.onKey(key, listener);
  }

  /** {@link onKey} for every key under `prefix`. */
  onPrefix(prefix: Buffer, listener: EventListener): () => void {
    return this.router.onPrefix(prefix, listener);
  }
}
