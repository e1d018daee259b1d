import type { Keyspace } from "@keyway/client";
import { Election, type ElectionOptions } from "./election.js";
import { Mutex, type MutexOptions } from "./mutex.js";
import { RWMutex, type RWMutexOptions } from "./rw-mutex.js";
import { Semaphore, type SemaphoreOptions } from "./semaphore.js";

/** Factories of the lock primitives over one client or namespace: `locks(client).mutex(name, { session })`. */
export interface Locks {
  /** A Go-compatible fair mutex; see {@link Mutex}. */
  mutex(name: string | Uint8Array, options: MutexOptions): Mutex;
  /** A fair readers-writer lock; see {@link RWMutex}. */
  rwMutex(name: string | Uint8Array, options: RWMutexOptions): RWMutex;
  /** A fair counting semaphore; see {@link Semaphore}. */
  semaphore(name: string | Uint8Array, options: SemaphoreOptions): Semaphore;
  /** A Go-compatible election; see {@link Election}. */
  election(name: string | Uint8Array, options: ElectionOptions): Election;
}

/**
 * The lock primitives over `keyspace` (a `KeywayClient` or one of its namespaces). Names are used
 * as given, so Go services using the same names on the same keyspace interoperate.
 */
export function locks(keyspace: Keyspace): Locks {
  return {
    mutex: (name, options) => new Mutex(keyspace, name, options),
    rwMutex: (name, options) => new RWMutex(keyspace, name, options),
    semaphore: (name, options) => new Semaphore(keyspace, name, options),
    election: (name, options) => new Election(keyspace, name, options),
  };
}
