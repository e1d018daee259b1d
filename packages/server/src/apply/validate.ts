import { etcdserverpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";

const SortOrder = etcdserverpb.RangeRequest_SortOrder;
const SortTarget = etcdserverpb.RangeRequest_SortTarget;

/** Whether a sort order is one etcd knows (NONE, ASCEND, DESCEND). */
export function isKnownSortOrder(order: number): boolean {
  return order === SortOrder.NONE || order === SortOrder.ASCEND || order === SortOrder.DESCEND;
}

/** Whether a sort target is one etcd knows (KEY, VERSION, CREATE, MOD, VALUE). */
export function isKnownSortTarget(target: number): boolean {
  return target >= SortTarget.KEY && target <= SortTarget.VALUE && Number.isInteger(target);
}

/**
 * etcd's checkRangeRequest: the key must be set. On unknown sort enums etcd 3.4 does not check:
 * an unknown order means "no sort" (we do the same), but an unknown target with a known order
 * makes 3.4 sort with a nil sorter and crash the member (observed on 3.4.23). There we answer
 * what later etcd answers for any unknown enum: `invalid sort option`.
 */
export function checkRangeRequest(req: etcdserverpb.RangeRequest): void {
  if (req.key.length === 0) throw new EtcdServerError("emptyKey");
  if (!isKnownSortTarget(req.sortTarget) && isKnownSortOrder(req.sortOrder)) {
    throw new EtcdServerError("invalidSortOption");
  }
}

/** etcd's checkPutRequest: key set; ignore_value without a value; ignore_lease without a lease. */
export function checkPutRequest(req: etcdserverpb.PutRequest): void {
  if (req.key.length === 0) throw new EtcdServerError("emptyKey");
  if (req.ignoreValue && req.value.length !== 0) throw new EtcdServerError("valueProvided");
  if (req.ignoreLease && req.lease !== 0n) throw new EtcdServerError("leaseProvided");
}

/** etcd's checkDeleteRequest: the key must be set. */
export function checkDeleteRangeRequest(req: etcdserverpb.DeleteRangeRequest): void {
  if (req.key.length === 0) throw new EtcdServerError("emptyKey");
}

/**
 * etcd's Txn checks before proposing: at most `maxTxnOps` compares/ops per branch (nested txns
 * get what the outer one leaves), keys set everywhere, every op set, and no key written twice
 * in one branch (see {@link checkDuplicateWrites}).
 * @param maxTxnOps etcd's --max-txn-ops, default 128.
 */
export function checkTxnRequest(req: etcdserverpb.TxnRequest, maxTxnOps: number): void {
  checkTxnShape(req, maxTxnOps);
  checkDuplicateWrites(req.success);
  checkDuplicateWrites(req.failure);
}

function checkTxnShape(req: etcdserverpb.TxnRequest, maxTxnOps: number): void {
  const ops = Math.max(req.compare.length, req.success.length, req.failure.length);
  if (ops > maxTxnOps) throw new EtcdServerError("tooManyOps");
  for (const compare of req.compare) {
    if (compare.key.length === 0) throw new EtcdServerError("emptyKey");
  }
  for (const op of [...req.success, ...req.failure]) checkRequestOp(op, maxTxnOps - ops);
}

function checkRequestOp(op: etcdserverpb.RequestOp, maxTxnOps: number): void {
  const request = op.request;
  switch (request?.$case) {
    case "requestRange":
      checkRangeRequest(request.requestRange);
      break;
    case "requestPut":
      checkPutRequest(request.requestPut);
      break;
    case "requestDeleteRange":
      checkDeleteRangeRequest(request.requestDeleteRange);
      break;
    case "requestTxn":
      checkTxnShape(request.requestTxn, maxTxnOps);
      break;
    default:
      throw new EtcdServerError("keyNotFound");
  }
}

/** A deleted interval [begin, end) over latin1 keys. */
interface Interval {
  begin: string;
  end: string;
}

/** Keys put and intervals deleted by one branch. */
interface BranchWrites {
  puts: Set<string>;
  dels: Interval[];
}

const latin1 = (bytes: Buffer) => bytes.toString("latin1");

/**
 * Whether a deleted interval covers a key. Like etcd, a range_end is taken literally here: a
 * from-key delete (range_end "\0") is an empty interval and conflicts with no put.
 */
function deletes(dels: Interval[], key: string): boolean {
  return dels.some((del) => del.begin <= key && key < del.end);
}

/**
 * etcd's checkIntervals: in one branch a key may be put once and never inside a deleted range;
 * nested txns count as part of the branch, except that the then and else of one nested txn may
 * put the same key (only one runs). Deletes may overlap each other.
 */
function checkDuplicateWrites(ops: etcdserverpb.RequestOp[]): BranchWrites {
  const dels: Interval[] = [];
  for (const op of ops) {
    if (op.request?.$case !== "requestDeleteRange") continue;
    const { key, rangeEnd } = op.request.requestDeleteRange;
    const begin = latin1(key);
    dels.push({ begin, end: rangeEnd.length === 0 ? `${begin}\0` : latin1(rangeEnd) });
  }
  const puts = new Set<string>();
  const claim = (key: string) => {
    if (puts.has(key) || deletes(dels, key)) throw new EtcdServerError("duplicateKey");
    puts.add(key);
  };
  for (const op of ops) {
    if (op.request?.$case !== "requestTxn") continue;
    const then = checkDuplicateWrites(op.request.requestTxn.success);
    const otherwise = checkDuplicateWrites(op.request.requestTxn.failure);
    for (const key of then.puts) claim(key);
    for (const key of otherwise.puts) {
      if (puts.has(key) && then.puts.has(key)) {
        if (deletes(dels, key)) throw new EtcdServerError("duplicateKey");
        continue;
      }
      claim(key);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if (op.request?.$case === "requestPut") claim(latin1(op.request.requestPut.key));
  }
  return { puts, dels };
}
