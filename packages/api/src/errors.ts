import { status } from "@grpc/grpc-js";

/**
 * One etcd server error: the gRPC status code and the exact message text that etcd sends.
 * Clients (Go clientv3, the `etcd3` npm package, ours) classify errors by this text, so the
 * text is part of the wire contract and must match etcd byte for byte.
 */
export interface EtcdErrorSpec {
  /** gRPC status code etcd uses for this error. */
  readonly code: status;
  /** Exact message, including the `etcdserver: ` prefix where etcd has one. */
  readonly message: string;
}

function spec(code: status, message: string): EtcdErrorSpec {
  return { code, message };
}

/** etcd's server errors by reason (etcd 3.4 `rpctypes/error.go`; 3.4 codes where HEAD differs). */
export const EtcdError = {
  emptyKey: spec(status.INVALID_ARGUMENT, "etcdserver: key is not provided"),
  keyNotFound: spec(status.INVALID_ARGUMENT, "etcdserver: key not found"),
  valueProvided: spec(status.INVALID_ARGUMENT, "etcdserver: value is provided"),
  leaseProvided: spec(status.INVALID_ARGUMENT, "etcdserver: lease is provided"),
  tooManyOps: spec(status.INVALID_ARGUMENT, "etcdserver: too many operations in txn request"),
  duplicateKey: spec(status.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request"),
  invalidSortOption: spec(status.INVALID_ARGUMENT, "etcdserver: invalid sort option"),
  compacted: spec(status.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"),
  futureRev: spec(status.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"),
  noSpace: spec(status.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded"),

  leaseNotFound: spec(status.NOT_FOUND, "etcdserver: requested lease not found"),
  leaseExist: spec(status.FAILED_PRECONDITION, "etcdserver: lease already exists"),
  leaseTTLTooLarge: spec(status.OUT_OF_RANGE, "etcdserver: too large lease TTL"),

  watchCanceled: spec(status.CANCELLED, "etcdserver: watch canceled"),

  memberExist: spec(status.FAILED_PRECONDITION, "etcdserver: member ID already exist"),
  peerURLExist: spec(status.FAILED_PRECONDITION, "etcdserver: Peer URLs already exists"),
  memberNotEnoughStarted: spec(
    status.FAILED_PRECONDITION,
    "etcdserver: re-configuration failed due to not enough started members",
  ),
  memberBadURLs: spec(status.INVALID_ARGUMENT, "etcdserver: given member URLs are invalid"),
  memberNotFound: spec(status.NOT_FOUND, "etcdserver: member not found"),
  memberNotLearner: spec(status.FAILED_PRECONDITION, "etcdserver: can only promote a learner member"),
  learnerNotReady: spec(
    status.FAILED_PRECONDITION,
    "etcdserver: can only promote a learner member which is in sync with leader",
  ),
  tooManyLearners: spec(status.FAILED_PRECONDITION, "etcdserver: too many learner members in cluster"),
  clusterIdMismatch: spec(status.FAILED_PRECONDITION, "etcdserver: cluster ID mismatch"),

  requestTooLarge: spec(status.INVALID_ARGUMENT, "etcdserver: request is too large"),
  tooManyRequests: spec(status.RESOURCE_EXHAUSTED, "etcdserver: too many requests"),

  rootUserNotExist: spec(status.FAILED_PRECONDITION, "etcdserver: root user does not exist"),
  rootRoleNotExist: spec(status.FAILED_PRECONDITION, "etcdserver: root user does not have root role"),
  userAlreadyExist: spec(status.FAILED_PRECONDITION, "etcdserver: user name already exists"),
  userEmpty: spec(status.INVALID_ARGUMENT, "etcdserver: user name is empty"),
  userNotFound: spec(status.FAILED_PRECONDITION, "etcdserver: user name not found"),
  roleAlreadyExist: spec(status.FAILED_PRECONDITION, "etcdserver: role name already exists"),
  roleNotFound: spec(status.FAILED_PRECONDITION, "etcdserver: role name not found"),
  roleEmpty: spec(status.INVALID_ARGUMENT, "etcdserver: role name is empty"),
  authFailed: spec(status.INVALID_ARGUMENT, "etcdserver: authentication failed, invalid user ID or password"),
  permissionDenied: spec(status.PERMISSION_DENIED, "etcdserver: permission denied"),
  roleNotGranted: spec(status.FAILED_PRECONDITION, "etcdserver: role is not granted to the user"),
  permissionNotGranted: spec(status.FAILED_PRECONDITION, "etcdserver: permission is not granted to the role"),
  authNotEnabled: spec(status.FAILED_PRECONDITION, "etcdserver: authentication is not enabled"),
  invalidAuthToken: spec(status.UNAUTHENTICATED, "etcdserver: invalid auth token"),
  invalidAuthMgmt: spec(status.INVALID_ARGUMENT, "etcdserver: invalid auth management"),
  authOldRevision: spec(status.INVALID_ARGUMENT, "etcdserver: revision of auth store is old"),

  noLeader: spec(status.UNAVAILABLE, "etcdserver: no leader"),
  notLeader: spec(status.FAILED_PRECONDITION, "etcdserver: not leader"),
  leaderChanged: spec(status.UNAVAILABLE, "etcdserver: leader changed"),
  notCapable: spec(status.UNAVAILABLE, "etcdserver: not capable"),
  stopped: spec(status.UNAVAILABLE, "etcdserver: server stopped"),
  timeout: spec(status.UNAVAILABLE, "etcdserver: request timed out"),
  timeoutDueToLeaderFail: spec(
    status.UNAVAILABLE,
    "etcdserver: request timed out, possibly due to previous leader failure",
  ),
  timeoutDueToConnectionLost: spec(
    status.UNAVAILABLE,
    "etcdserver: request timed out, possibly due to connection lost",
  ),
  timeoutWaitAppliedIndex: spec(
    status.UNAVAILABLE,
    "etcdserver: request timed out, waiting for the applied index took too long",
  ),
  timeoutLeaderTransfer: spec(
    status.UNAVAILABLE,
    "etcdserver: request timed out, leader transfer took too long",
  ),
  unhealthy: spec(status.UNAVAILABLE, "etcdserver: unhealthy cluster"),
  corrupt: spec(status.DATA_LOSS, "etcdserver: corrupt cluster"),
  learnerNotSupported: spec(status.UNAVAILABLE, "etcdserver: rpc not supported for learner"),
  badLeaderTransferee: spec(status.FAILED_PRECONDITION, "etcdserver: bad leader transferee"),

  requestCanceled: spec(status.CANCELLED, "etcdserver: request canceled"),
  deadlineExceeded: spec(status.DEADLINE_EXCEEDED, "etcdserver: context deadline exceeded"),
} as const satisfies Record<string, EtcdErrorSpec>;

/** A reason name from {@link EtcdError}: `compacted`, `leaseNotFound`, ... */
export type EtcdErrorReason = keyof typeof EtcdError;

/**
 * Texts that only travel as a watch response's `cancel_reason`, never as a gRPC status.
 */
export const WatchCancelReason = {
  emptyRange: "mvcc: watcher range is empty",
  duplicateWatchId: "mvcc: duplicate watch ID provided on the WatchStream",
} as const;

const reasonByMessage = new Map<string, EtcdErrorReason>(
  (Object.keys(EtcdError) as EtcdErrorReason[]).map((reason) => [EtcdError[reason].message, reason]),
);

/**
 * Classifies a server error by its gRPC code and exact message (never by substring).
 * Returns undefined for errors that are not etcd's (transport errors, unknown texts).
 */
export function etcdErrorReason(code: number, message: string): EtcdErrorReason | undefined {
  const reason = reasonByMessage.get(message);
  if (reason === undefined) return undefined;
  return EtcdError[reason].code === code ? reason : undefined;
}
