import {
  DEFAULTS,
  type InitialClusterState,
  initialClusterFromName,
  KeywayServer,
  MemberRemovedError,
  parseInitialCluster,
  parseUrlList,
  type ServerConfig,
} from "@keyway/server";
import { type Command, InvalidArgumentError } from "commander";
import { pino } from "pino";

interface ServeFlags {
  name: string;
  dataDir: string;
  listenClientUrls: string;
  advertiseClientUrls?: string;
  initialAdvertisePeerUrls: string[];
  listenPeerUrls: string[];
  initialCluster: string;
  initialClusterState: InitialClusterState;
  initialClusterToken: string;
  snapshotCount: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  heartbeatInterval: number;
  electionTimeout: number;
  experimentalWatchProgressNotifyInterval: number;
  logLevel: string;
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError("must be a positive integer");
  return parsed;
}

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1e3,
  m: 6e4,
  h: 3.6e6,
};

/** A positive Go duration (`10m0s`, `1.5s`, `100ms`) in whole milliseconds, at least 1. */
function goDurationMs(value: string): number {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) {
    throw new InvalidArgumentError("must be a duration such as 10m0s, 5s or 100ms");
  }
  let ms = 0;
  for (const [, amount, , unit] of value.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    ms += Number(amount) * (DURATION_UNITS_MS[unit as string] as number);
  }
  if (ms < 1) throw new InvalidArgumentError("must be at least 1ms");
  return Math.round(ms);
}

/** etcd's default `--initial-cluster`, from the default name and advertised peer URLs. */
const DEFAULT_INITIAL_CLUSTER = initialClusterFromName(DEFAULTS.name, DEFAULTS.advertisePeerUrls);

/**
 * A flag value etcd's flag parser refuses: Go's flag package prints `invalid value "<v>" for
 * flag -<name>: <reason>` and exits with status 2; commander prints its own line, with the same
 * reason and exit status.
 */
function flagError(reason: string): InvalidArgumentError {
  const error = new InvalidArgumentError(reason);
  error.exitCode = 2;
  return error;
}

/** A URL list flag checked as etcd checks it (scheme, host:port, no path). */
function urlListFlag(value: string): string[] {
  try {
    return parseUrlList(value);
  } catch (error) {
    throw flagError((error as Error).message);
  }
}

function clusterState(value: string): InitialClusterState {
  if (value !== "new" && value !== "existing") throw flagError("invalid value");
  return value;
}

const urlList = (value: string) =>
  value
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url !== "");

/** `keyway serve`: one member with its embedded storage. Flag names and defaults follow etcd's. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run a Keyway member (etcd v3 API over gRPC)")
    .option("--name <name>", "human-readable name for this member", DEFAULTS.name)
    .option("--data-dir <dir>", "path to the data directory", DEFAULTS.dataDir)
    .option(
      "--listen-client-urls <urls>",
      "comma-separated URLs to serve clients on",
      DEFAULTS.listenClientUrls.join(","),
    )
    .option(
      "--advertise-client-urls <urls>",
      "comma-separated client URLs announced to the cluster (default: listen URLs)",
    )
    .option(
      "--initial-advertise-peer-urls <urls>",
      "peer URLs announced to the rest of the cluster",
      urlListFlag,
      [...DEFAULTS.advertisePeerUrls],
    )
    .option("--listen-peer-urls <urls>", "comma-separated URLs to listen on for peer traffic", urlListFlag, [
      ...DEFAULTS.listenPeerUrls,
    ])
    .option(
      "--initial-cluster <members>",
      "initial cluster configuration for bootstrapping, name=peer-url,... (default: <name>=<initial-advertise-peer-urls>)",
      DEFAULT_INITIAL_CLUSTER,
    )
    .option(
      "--initial-cluster-state <state>",
      "initial cluster state ('new' or 'existing')",
      clusterState,
      "new",
    )
    .option(
      "--initial-cluster-token <token>",
      "token that makes this cluster's id unique",
      DEFAULTS.initialClusterToken,
    )
    .option(
      "--snapshot-count <n>",
      "number of committed transactions to trigger a snapshot to disk",
      positiveInt,
      DEFAULTS.snapshotCount,
    )
    .option("--max-txn-ops <n>", "maximum operations in one txn", positiveInt, DEFAULTS.maxTxnOps)
    .option(
      "--max-request-bytes <n>",
      "maximum client request size in bytes",
      positiveInt,
      DEFAULTS.maxRequestBytes,
    )
    .option(
      "--heartbeat-interval <ms>",
      "time of a heartbeat interval in ms (lease timing derives from it)",
      positiveInt,
      DEFAULTS.heartbeatIntervalMs,
    )
    .option(
      "--election-timeout <ms>",
      "time of an election timeout in ms (minimum lease TTL: 1.5 of it)",
      positiveInt,
      DEFAULTS.electionTimeoutMs,
    )
    .option(
      "--experimental-watch-progress-notify-interval <duration>",
      "period of watch progress notifications, a Go duration such as 10m0s or 500ms",
      goDurationMs,
      DEFAULTS.watchProgressNotifyIntervalMs,
    )
    .option("--log-level <level>", "debug, info, warn, error", "info")
    .action(async (flags: ServeFlags) => {
      await serve(flags);
    });
}

async function serve(flags: ServeFlags): Promise<void> {
  const logger = pino({ level: flags.logLevel, base: { name: flags.name } });
  const listenClientUrls = urlList(flags.listenClientUrls);
  const config: ServerConfig = {
    name: flags.name,
    dataDir: flags.dataDir,
    listenClientUrls,
    advertiseClientUrls: flags.advertiseClientUrls ? urlList(flags.advertiseClientUrls) : listenClientUrls,
    advertisePeerUrls: flags.initialAdvertisePeerUrls,
    listenPeerUrls: flags.listenPeerUrls,
    initialCluster: parseInitialCluster(
      // etcd: `--name=x` alone means a one-member cluster named x.
      flags.name !== DEFAULTS.name && flags.initialCluster === DEFAULT_INITIAL_CLUSTER
        ? initialClusterFromName(flags.name, flags.initialAdvertisePeerUrls)
        : flags.initialCluster,
    ),
    initialClusterState: flags.initialClusterState,
    initialClusterToken: flags.initialClusterToken,
    snapshotCount: flags.snapshotCount,
    maxTxnOps: flags.maxTxnOps,
    maxRequestBytes: flags.maxRequestBytes,
    heartbeatIntervalMs: flags.heartbeatInterval,
    electionTimeoutMs: flags.electionTimeout,
    watchProgressNotifyIntervalMs: flags.experimentalWatchProgressNotifyInterval,
    logger,
  };
  const server = await KeywayServer.start(config, (error) => {
    if (error instanceof MemberRemovedError) {
      // etcd logs this and exits with status 0: a removed member is not a failed one.
      logger.warn({}, error.message);
      process.exit(0);
    }
    logger.fatal(
      { err: error },
      "fatal member failure, stopping: durability or state can no longer be promised",
    );
    process.exit(1);
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
