import { type Keyspace, KeywayError } from "@keyway/client";

/** Most rounds of one wait (each round is a read plus a watch until a deletion). */
const MAX_ROUNDS = 1_000_000;

/**
 * Waits until fewer than `permits` keys under `prefix` have a create revision below `myRevision`.
 * With one permit this is Go's `waitDeletes`: each waiter watches only the deletion of the key just
 * before its own (no thundering herd), then reads again. With more permits, any deletion under
 * the prefix may free a place, so it watches the prefix and counts again.
 */
export async function waitTurn(
  keyspace: Keyspace,
  prefix: Buffer,
  myRevision: bigint,
  permits: number,
  signal: AbortSignal,
): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    signal.throwIfAborted();
    const older = await keyspace.range(prefix, {
      prefix: true,
      keysOnly: true,
      maxCreateRevision: myRevision - 1n,
      sort: { target: "create", order: permits === 1 ? "descend" : "ascend" },
      limit: permits,
      signal,
    });
    if (older.kvs.length < permits) return;
    const watched = permits === 1 ? (older.kvs[0]?.key as Buffer) : prefix;
    await waitDelete(keyspace, watched, permits !== 1, older.revision + 1n, signal);
  }
  throw new Error(`waitTurn: more than ${MAX_ROUNDS} rounds`);
}

/** Returns at the first DELETE of `key` (or under it) from `fromRevision`; a compacted watch also returns (the caller reads again). */
async function waitDelete(
  keyspace: Keyspace,
  key: Buffer,
  prefix: boolean,
  fromRevision: bigint,
  signal: AbortSignal,
): Promise<void> {
  try {
    const watcher = await keyspace.watch(key, { prefix, startRevision: fromRevision, noPut: true, signal });
    for await (const event of watcher) if (event.type === "delete") return;
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    // The range is read again anyway; a compacted start only means the deletion happened already.
    if (KeywayError.is(err, "compacted", "watchCanceled")) return;
    throw err;
  }
  signal.throwIfAborted();
}
