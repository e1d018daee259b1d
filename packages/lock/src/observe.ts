import { type Keyspace, KeywayError } from "@keyway/client";
import { type Leader, toLeader } from "./leader.js";

/**
 * Go's `Election.Observe`: read the oldest candidate (or wait for the first one to appear), yield
 * it, then follow its key — every PUT is a proclaim, its DELETE means a new leader, so read again.
 * A compacted or canceled watch also reads again; a (key, modRevision) already yielded is skipped.
 */
export async function* observeLeader(
  keyspace: Keyspace,
  prefix: Buffer,
  signal: AbortSignal | undefined,
): AsyncGenerator<Leader> {
  let last: Leader | undefined;
  // Remembers the leader and tells whether it differs from the one yielded last.
  const fresh = (leader: Leader) => {
    const isNew =
      last === undefined || !last.key.equals(leader.key) || last.modRevision !== leader.modRevision;
    last = leader;
    return isNew;
  };
  // Follows the leader for as long as the caller iterates; each round is one leader's tenure.
  while (signal?.aborted !== true) {
    try {
      const first = await firstLeader(keyspace, prefix, signal);
      if (first === undefined) return;
      if (fresh(first.leader)) yield first.leader;
      const watcher = await keyspace.watch(first.leader.key, {
        startRevision: first.revision + 1n,
        ...(signal === undefined ? {} : { signal }),
      });
      for await (const event of watcher) {
        if (event.type === "delete") break;
        const leader = toLeader(event.kv);
        if (fresh(leader)) yield leader;
      }
    } catch (err) {
      if (signal?.aborted) return;
      if (!KeywayError.is(err, "compacted", "watchCanceled")) throw err;
    }
  }
}

/** The oldest candidate and the revision it was read at; waits for one when there is none. */
async function firstLeader(
  keyspace: Keyspace,
  prefix: Buffer,
  signal: AbortSignal | undefined,
): Promise<{ leader: Leader; revision: bigint } | undefined> {
  const call = signal === undefined ? {} : { signal };
  const result = await keyspace.range(prefix, {
    prefix: true,
    sort: { target: "create", order: "ascend" },
    limit: 1,
    ...call,
  });
  const kv = result.kvs[0];
  if (kv !== undefined) return { leader: toLeader(kv), revision: result.revision };
  const watcher = await keyspace.watch(prefix, {
    prefix: true,
    startRevision: result.revision + 1n,
    noDelete: true,
    ...call,
  });
  for await (const event of watcher) return { leader: toLeader(event.kv), revision: event.kv.modRevision };
  return undefined;
}
