import { etcdserverpb, mvccpb, type v3electionpb } from "@keyway/api";
import { EventQueue } from "./event-queue.js";
import type { LocalKv } from "./local-kv.js";
import { keyPrefix, oldestCreatedRequest } from "./ops.js";

/**
 * The leaders of election `name` as Go's `concurrency.Election.Observe` reports them: the current
 * leader (or, if there is none, the first candidate that appears), then every new value that
 * leader proclaims; when its key is deleted, the next leader; until `signal` aborts.
 */
export async function* observeLeaders(
  kv: LocalKv,
  name: Buffer,
  signal: AbortSignal,
): AsyncGenerator<v3electionpb.LeaderResponse> {
  const prefix = keyPrefix(name);
  const isPut = (event: mvccpb.Event) => event.type === mvccpb.Event_EventType.PUT;
  for (;;) {
    const response = kv.range(oldestCreatedRequest(prefix));
    // Subscribed right after the read: every later event under the prefix is seen, in order.
    using events = new EventQueue(kv, prefix);
    let leader = response.kvs[0];
    let header = response.header;
    while (leader === undefined) {
      const { event, revision } = await events.next(signal);
      if (!isPut(event)) continue;
      leader = event.kv;
      header = revisionHeader(revision);
    }
    yield { header, kv: leader };
    for (;;) {
      const { event, revision } = await events.next(signal);
      if (!event.kv?.key.equals(leader.key)) continue;
      if (!isPut(event)) break;
      yield { header: revisionHeader(revision), kv: event.kv };
    }
  }
}

function revisionHeader(revision: number): etcdserverpb.ResponseHeader {
  return etcdserverpb.ResponseHeader.fromPartial({ revision: BigInt(revision) });
}
