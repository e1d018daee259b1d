import { etcdserverpb } from "@keyway/api";
import {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  isReadOnlyTxn,
  isSerializableTxn,
  type StateMachine,
} from "../apply/index.js";
import type { Proposer } from "../proposal/proposer.js";
import { fillHeader, type HeaderSource } from "./header.js";
import { expectOk } from "./outcome.js";
import { type ResponseTypes, withSharedWriter } from "./shared-writer.js";
import { strictDecoding } from "./strict-decoding.js";
import { unary } from "./unary.js";

/** The message type of each KV method's response. */
export const KV_RESPONSES: ResponseTypes<typeof etcdserverpb.KVService> = {
  range: etcdserverpb.RangeResponse,
  put: etcdserverpb.PutResponse,
  deleteRange: etcdserverpb.DeleteRangeResponse,
  txn: etcdserverpb.TxnResponse,
  compact: etcdserverpb.CompactionResponse,
};

/**
 * etcd's KV service definition as the server registers it: requests checked against the wire
 * schema, responses encoded with one reused writer (the hottest calls of a member).
 */
export const KV_SERVICE_DEFINITION: typeof etcdserverpb.KVService = strictDecoding(
  withSharedWriter(etcdserverpb.KVService, KV_RESPONSES),
);

/** What the KV service needs from the member. */
export interface KvDeps {
  stateMachine: StateMachine;
  proposer: Proposer;
  header: HeaderSource;
  maxTxnOps: number;
}

/**
 * etcd's KV service: reads from the applied state (linearizable ones after a ReadIndex round,
 * serializable ones at once), writes through the proposer.
 */
export function kvService(deps: KvDeps): etcdserverpb.KVServer {
  const { stateMachine, proposer, header } = deps;
  const withHeader = <T extends { header?: etcdserverpb.ResponseHeader | undefined }>(response: T): T => {
    response.header = fillHeader(header, response.header);
    return response;
  };
  return {
    range: unary(async (request) => {
      checkRangeRequest(request);
      if (!request.serializable) await proposer.linearizableRead();
      return withHeader(await stateMachine.rangeChunked(request));
    }),
    put: unary(async (request) => {
      checkPutRequest(request);
      return withHeader(
        expectOk(await proposer.propose({ $case: "put", put: request })) as etcdserverpb.PutResponse,
      );
    }),
    deleteRange: unary(async (request) => {
      checkDeleteRangeRequest(request);
      const outcome = await proposer.propose({ $case: "deleteRange", deleteRange: request });
      return withHeader(expectOk(outcome) as etcdserverpb.DeleteRangeResponse);
    }),
    txn: unary(async (request) => {
      checkTxnRequest(request, deps.maxTxnOps);
      if (isReadOnlyTxn(request)) {
        if (!isSerializableTxn(request)) await proposer.linearizableRead();
        return withHeader(stateMachine.readTxn(request));
      }
      const outcome = await proposer.propose({ $case: "txn", txn: request });
      return withHeader(expectOk(outcome) as etcdserverpb.TxnResponse);
    }),
    compact: unary(async (request) => {
      const outcome = await proposer.propose({ $case: "compaction", compaction: request });
      const response = expectOk(outcome) as etcdserverpb.CompactionResponse;
      if (request.physical) await stateMachine.compacted(Number(request.revision));
      return withHeader(response);
    }),
  };
}
