import { LockError } from "./errors.js";
import type { LockHold } from "./hold.js";

/** A critical section: gets a signal aborted when the lock is lost, and the hold itself. */
export type CriticalSection<T> = (signal: AbortSignal, hold: LockHold) => Promise<T> | T;

/**
 * Runs `fn` under a hold and always unlocks. If `fn` throws, its error wins (an unlock failure is
 * then dropped: the key goes with the lease anyway). If `fn` returns but the lock was lost
 * meanwhile, the loss is thrown: the section ran without guaranteed exclusion.
 */
export async function runHeld<T>(hold: LockHold, fn: CriticalSection<T>): Promise<T> {
  let result: T;
  try {
    result = await fn(hold.signal, hold);
  } catch (err) {
    await hold.unlock().catch(() => undefined);
    throw err;
  }
  await hold.unlock();
  return result;
}

/** Throws `badRequest` unless `fn` is a function. */
export function checkSection(fn: unknown): void {
  if (typeof fn !== "function") throw new LockError("badRequest", "withLock expects a function");
}
