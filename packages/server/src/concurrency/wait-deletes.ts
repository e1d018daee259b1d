import { type etcdserverpb, mvccpb } from "@keyway/api";
import type { LocalKv } from "./local-kv.js";
import { newestCreatedRequest } from "./ops.js";

/**
 * Resolves at the next deletion of `key`, which must exist now; rejects when `signal` aborts.
 * Subscribing happens synchronously, right after the caller's read, so no deletion slips between.
 */
export function waitDelete(kv: LocalKv, key: Buffer, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const done = () => {
      unsubscribe();
      signal.removeEventListener("abort", aborted);
    };
    const aborted = () => {
      done();
      reject(signal.reason);
    };
    const unsubscribe = kv.onKey(key, (event) => {
      if (event.type === mvccpb.Event_EventType.DELETE) {
        done();
        resolve();
      }
    });
    signal.addEventListener("abort", aborted, { once: true });
  });
}

/**
 * Go `concurrency`'s waitDeletes: waits until no key under `prefix` has a create revision at or
 * below `maxCreateRevision`, always waiting on the newest such key (each waiter watches only its
 * predecessor, so a release wakes one waiter, not the herd). Returns the header of the last read.
 * Unlike etcd, which catches such watchers up on a 100 ms timer, the wake-up is immediate.
 */
export async function waitDeletes(
  kv: LocalKv,
  prefix: Buffer,
  maxCreateRevision: bigint,
  signal: AbortSignal,
): Promise<etcdserverpb.ResponseHeader | undefined> {
  for (;;) {
    signal.throwIfAborted();
    const response = kv.range({ ...newestCreatedRequest(prefix), maxCreateRevision });
    const last = response.kvs[0];
    if (last === undefined) return response.header;
    await waitDelete(kv, last.key, signal);
  }
}
