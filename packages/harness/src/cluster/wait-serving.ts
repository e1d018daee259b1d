import { setTimeout as sleep } from "node:timers/promises";
import { KeywayClient, type MemberStatus } from "@keyway/client";

/**
 * How long a member may take to serve after a (re)start. etcd elects within a few seconds and
 * Keyway starts in ~3 s, but a loaded 2-core machine has been seen to need 25 s.
 */
export const SERVE_TIMEOUT_MS = 60_000;

/** The member's status, or undefined when it does not answer within `timeoutMs`. */
export async function memberStatus(endpoint: string, timeoutMs: number): Promise<MemberStatus | undefined> {
  const client = new KeywayClient({
    endpoints: [endpoint],
    connectTimeoutMs: timeoutMs,
    retry: { retries: 0 },
  });
  try {
    return await client.maintenance.status({ timeoutMs });
  } catch {
    return undefined;
  } finally {
    await client.close();
  }
}

/**
 * Waits until the member answers Status and follows a leader, i.e. it can serve linearizable
 * requests. `describe` adds the member's log to the error when it never does.
 */
export async function waitServing(endpoint: string, describe: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + SERVE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const status = await memberStatus(endpoint, 1_000);
    if (status !== undefined && status.leader !== 0n) return;
    await sleep(200);
  }
  throw new Error(`member ${endpoint} did not serve within ${SERVE_TIMEOUT_MS} ms:\n${await describe()}`);
}
