import { setTimeout as sleep } from "node:timers/promises";
import { KeywayClient } from "@keyway/client";
import type { Anomaly } from "../check/anomaly.js";
import { checkAcknowledgedWrites } from "../check/index.js";
import type { Cluster } from "../cluster/types.js";
import { waitServing } from "../cluster/wait-serving.js";
import type { History } from "../history/types.js";
import { recordKv } from "../traffic/convert.js";

/** How long the healed cluster may take to answer the final read and every member's HashKV. */
const FINAL_CHECK_TIMEOUT_MS = 30_000;

/** Retries `attempt` until it resolves or the deadline passes (then rethrows its last error). */
async function retryUntil<T>(deadline: number, attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await sleep(250);
    }
  }
}

/**
 * The checks after the faults healed: every member serves again; a linearizable read of the whole
 * keyspace still holds every acknowledged write; and every member's HashKV at that read's revision
 * is the same (the members converged on one history). Returns the anomalies found.
 */
export async function finalChecks(cluster: Cluster, history: History): Promise<Anomaly[]> {
  for (const member of cluster.members) await waitServing(member.endpoint, async () => member.name);
  const deadline = Date.now() + FINAL_CHECK_TIMEOUT_MS;
  await using client = new KeywayClient({ endpoints: [...cluster.endpoints], defaultTimeoutMs: 2_000 });
  const final = await retryUntil(deadline, () => client.range("", { prefix: true }));
  const anomalies = checkAcknowledgedWrites(history, final.kvs.map(recordKv));
  const hashes = await Promise.all(
    cluster.members.map((member) =>
      // A member that has not applied the revision yet answers "future revision": ask again.
      retryUntil(deadline, () => client.maintenance.hashKV(final.revision, { endpoint: member.endpoint })),
    ),
  );
  const distinct = new Set(hashes.map((h) => `${h.hash}/${h.compactRevision}`));
  if (distinct.size > 1) {
    const listed = hashes.map((h, i) => `${cluster.members[i]?.name}=${h.hash}`).join(" ");
    anomalies.push({
      kind: "hashKvMismatch",
      message: `members disagree on HashKV at revision ${final.revision}: ${listed}`,
      window: [],
    });
  }
  return anomalies;
}
