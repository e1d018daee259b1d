import type { KeywayClient, Session } from "@keyway/client";
import { afterEach } from "vitest";

export { useTarget } from "../../../client/test/support/target.js";

/** Sleeps `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sessions opened by a test, closed (lease revoked) after it, so one test's keys never block the
 * next. `ttlSeconds` defaults to 10.
 */
export function useSessions(client: () => KeywayClient): (ttlSeconds?: number) => Promise<Session> {
  const open: Session[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close().catch(() => undefined)));
  });
  return async (ttlSeconds = 10) => {
    const session = await client().session({ ttlSeconds });
    open.push(session);
    return session;
  };
}

/** Polls `check` every 20 ms until it returns true; fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Number of keys under `prefix`. */
export async function keysUnder(client: KeywayClient, prefix: string): Promise<number> {
  return Number((await client.range(prefix, { prefix: true, countOnly: true })).count);
}
