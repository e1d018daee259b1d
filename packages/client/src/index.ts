export { AuthClient, type Permission, type PermissionType } from "./auth.js";
export type { AuthCredentials } from "./auth-token.js";
export type { CallOptions } from "./call-options.js";
export { type ClientOptions, KeywayClient, type TlsOptions } from "./client.js";
export type { ClientEvents } from "./client-events.js";
export { ClusterClient, type Member } from "./cluster.js";
export { type CompareOperator, Comparison, compare } from "./compare.js";
export type { Endpoint } from "./endpoint.js";
export { KeywayError, type KeywayErrorReason } from "./errors.js";
export { KeepAlive, type KeepAliveEvents } from "./keep-alive.js";
export { KeyValue } from "./key-value.js";
export type { Bytes, RangeSelector } from "./keys.js";
export { type CompactOptions, KVClient } from "./kv.js";
export { type KeepAliveOptions, LeaseClient, type LeaseGrant, type LeaseTimeToLive } from "./lease.js";
export { type ListAndWatchOptions, listAndWatch, type Snapshot } from "./list-and-watch.js";
export { type Alarm, MaintenanceClient, type MemberCallOptions, type MemberStatus } from "./maintenance.js";
export { Keyspace } from "./namespace.js";
export {
  type BalancerPolicy,
  createPicker,
  LeastConnectionPicker,
  type Pickable,
  type Picker,
  RoundRobinPicker,
} from "./picker.js";
export type {
  DeleteOptions,
  GetOptions,
  PutOptions,
  RangeOptions,
  SortOrder,
  SortTarget,
} from "./requests.js";
export type { DeleteResult, PutResult, RangeResult, ResponseHeader } from "./results.js";
export { Session, type SessionEvents, type SessionOptions } from "./session.js";
export { Op, op, Txn, type TxnOpResult, type TxnResult } from "./txn.js";
export type { WatchEvent, WatcherEvents, WatchOptions } from "./watch-options.js";
export { Watcher } from "./watcher.js";

import { Txn } from "./txn.js";

/** An unbound txn builder, for nesting with `op.txn(txn().if(...).then(...))`. */
export function txn(): Txn {
  return new Txn();
}
