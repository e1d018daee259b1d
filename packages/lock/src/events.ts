import type { LockError } from "./errors.js";

/** Status events of a lock, RW lock, semaphore or election (eventemitter3), for logs and dashboards. */
export interface LockEvents {
  /** The key was created behind others; `revision` is its place in the queue. */
  waiting: (info: { key: Buffer; revision: bigint }) => void;
  /** The lock (or leadership) was acquired with this fencing token. */
  acquired: (info: { key: Buffer; fencingToken: bigint }) => void;
  /** A held lock (or leadership) was lost: the lease is gone or the key was deleted by someone else. */
  lost: (error: LockError) => void;
  /** The lock was released (or leadership resigned). */
  released: (info: { key: Buffer }) => void;
}
