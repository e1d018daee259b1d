import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startEtcdCluster } from "../../../../test/support/etcd-process.js";

/** A server the client suite runs against. */
export interface Target {
  endpoints: string[];
  close(): Promise<void>;
}

/** Which server the suite runs against: `KEYWAY_TEST_TARGET=etcd|keyway` (default etcd). */
export const TARGET_NAME = process.env.KEYWAY_TEST_TARGET ?? "etcd";

/** Options of {@link startTarget}. */
export interface TargetOptions {
  /** Extra flags for etcd (e.g. `--auth-token-ttl=1`); Keyway takes its equivalents from its own fixture. */
  etcdArgs?: string[];
}

const keywayFixture = fileURLToPath(new URL("../../../../test/support/keyway-process.ts", import.meta.url));

/**
 * The one fixture of the client suite: starts a single-member server on loopback (real etcd 3.4
 * from Debian, or Keyway through the lead's `test/support/keyway-process.ts`).
 */
export async function startTarget(options: TargetOptions = {}): Promise<Target> {
  if (TARGET_NAME === "keyway") {
    if (!existsSync(keywayFixture))
      throw new Error("KEYWAY_TEST_TARGET=keyway: test/support/keyway-process.ts is not available yet");
    const fixture = (await import(/* @vite-ignore */ keywayFixture)) as {
      startKeyway(): Promise<Target>;
    };
    return fixture.startKeyway();
  }
  if (TARGET_NAME !== "etcd")
    throw new Error(`unknown KEYWAY_TEST_TARGET ${TARGET_NAME}: use etcd or keyway`);
  const cluster = await startEtcdCluster(
    options.etcdArgs === undefined ? {} : { extraArgs: options.etcdArgs },
  );
  return { endpoints: cluster.endpoints, close: () => cluster.close() };
}
