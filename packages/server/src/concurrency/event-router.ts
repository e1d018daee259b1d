import type { mvccpb } from "@keyway/api";

/** Told of one applied event and its revision. */
export type EventListener = (event: mvccpb.Event, revision: number) => void;

/**
 * Routes applied events to the Lock and Election waiters that want them, from ONE listener on the
 * state machine's event feed: a waiter on one key costs a Map lookup per event, not a call per
 * event, so a thousand queued lockers do not slow every apply down. Listeners run synchronously
 * right after the batch commits (subscribe right after a synchronous read to miss nothing); they
 * must only record or wake, never do work of their own.
 */
export class EventRouter {
  private readonly byKey = new Map<string, Set<EventListener>>();
  private readonly byPrefix = new Map<string, Set<EventListener>>();

  /** The state machine's listener: call it with each applied revision's events. */
  readonly onEvents = (revision: number, events: mvccpb.Event[]): void => {
    if (this.byKey.size === 0 && this.byPrefix.size === 0) return;
    for (const event of events) {
      const key = event.kv?.key.toString("latin1");
      if (key === undefined) continue;
      for (const listener of this.byKey.get(key) ?? []) listener(event, revision);
      for (const [prefix, listeners] of this.byPrefix) {
        if (key.startsWith(prefix)) for (const listener of listeners) listener(event, revision);
      }
    }
  };

  /** Events of exactly `key` from now on, until the returned function is called. */
  onKey(key: Buffer, listener: EventListener): () => void {
    return add(this.byKey, key.toString("latin1"), listener);
  }

  /** Events of every key under `prefix` from now on, until the returned function is called. */
  onPrefix(prefix: Buffer, listener: EventListener): () => void {
    return add(this.byPrefix, prefix.toString("latin1"), listener);
  }
}

function add(map: Map<string, Set<EventListener>>, key: string, listener: EventListener): () => void {
  const listeners = map.get(key) ?? new Set<EventListener>();
  map.set(key, listeners);
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && map.get(key) === listeners) map.delete(key);
  };
}
