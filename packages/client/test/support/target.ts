import { afterAll, beforeAll, expect } from "vitest";
import { startEtcdCluster } from "../../../../test/support/etcd-process.js";
import { startKeywayProcess } from "../../../../test/support/keyway-process.js";
import { KeywayClient } from "../../src/index.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

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

/**
 * The one fixture of the client suite: starts a single-member server on loopback (real etcd 3.4
 * from Debian, or a Keyway member process from `test/support/keyway-process.ts`).
 */
export async function startTarget(options: TargetOptions = {}): Promise<Target> {
  if (TARGET_NAME === "keyway") {
    const extraArgs = (options.etcdArgs ?? []).filter((arg) => KEYWAY_FLAGS.has(arg.split("=")[0] as string));
    return startKeywayProcess({ extraArgs });
  }
  if (TARGET_NAME !== "etcd")
    throw new Error(`unknown KEYWAY_TEST_TARGET ${TARGET_NAME}: use etcd or keyway`);
  const cluster = await startEtcdCluster(
    options.etcdArgs === undefined ? {} : { extraArgs: options.etcdArgs },
  );
  return { endpoints: cluster.endpoints, close: () => cluster.close() };
}

/** The etcd flags of `etcdArgs` that `keyway serve` also takes, with etcd's meaning. */
const KEYWAY_FLAGS: ReadonlySet<string> = new Set([
  "--experimental-watch-progress-notify-interval",
  "--max-request-bytes",
  "--max-txn-ops",
]);

/** Server features some client tests need. */
export type Feature = "watch" | "lease" | "auth" | "snapshot" | "membership";

/**
 * What Keyway does not serve yet, mirroring docs/compatibility.md. Against Keyway, a test of
 * such a feature checks that the server still answers UNIMPLEMENTED instead of being skipped:
 * it fails the day Keyway serves the feature, and the entry must then be removed here.
 */
// biome-ignore format: one feature per line, so parallel branches that each remove one merge cleanly
const KEYWAY_PENDING: ReadonlySet<Feature> = new Set<Feature>([
  "auth",
  "snapshot",
]);

/** True when the current target does not serve `feature` yet. */
export function pending(feature: Feature): boolean {
  return TARGET_NAME === "keyway" && KEYWAY_PENDING.has(feature);
}

/** Asserts that a call of a pending feature fails with UNIMPLEMENTED (gRPC code 12). */
export async function expectUnimplemented(
  call: () => Promise<unknown> | AsyncIterable<unknown>,
): Promise<void> {
  const run = async () => {
    const result = call();
    if (Symbol.asyncIterator in Object(result)) {
      for await (const _ of result as AsyncIterable<unknown>) break;
    } else await result;
  };
  await expect(run()).rejects.toMatchObject({ code: 12 });
}

/** What a test file shares; read the fields inside tests and hooks (they exist after beforeAll). */
export interface TestEnv {
  readonly target: Target;
  /** A client of the target. */
  readonly client: KeywayClient;
  /** With `{ proxy: true }`: a TCP proxy in front of the target (fault injection). */
  readonly proxy: TcpProxy;
  /** With `{ proxy: true }`: a client that reaches the target through {@link TestEnv.proxy}. */
  readonly proxied: KeywayClient;
}

/**
 * Registers the beforeAll/afterAll of a test file that needs the target server and a client
 * (and, with `proxy: true`, a proxied client too); everything is closed after the file.
 */
export function useTarget(options: TargetOptions & { proxy?: boolean } = {}): TestEnv {
  const parts: Partial<{ -readonly [K in keyof TestEnv]: TestEnv[K] }> = {};
  beforeAll(async () => {
    parts.target = await startTarget(options);
    parts.client = new KeywayClient({ endpoints: parts.target.endpoints });
    if (options.proxy) {
      parts.proxy = await startTcpProxy(parts.target.endpoints[0] as string);
      parts.proxied = new KeywayClient({ endpoints: [parts.proxy.url] });
    }
  });
  afterAll(async () => {
    await parts.proxied?.close();
    await parts.client?.close();
    await parts.proxy?.close();
    await parts.target?.close();
  });
  const get = <K extends keyof TestEnv>(key: K): TestEnv[K] => {
    const value = parts[key];
    if (value === undefined)
      throw new Error(`test env: ${key} is not set up (proxy: ${options.proxy === true})`);
    return value as TestEnv[K];
  };
  return {
    get target() {
      return get("target");
    },
    get client() {
      return get("client");
    },
    get proxy() {
      return get("proxy");
    },
    get proxied() {
      return get("proxied");
    },
  };
}
