import { mkdir } from "node:fs/promises";
import type { Server as HttpServer } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { etcdserverpb, health, v3electionpb, v3lockpb } from "@keyway/api";
import { Registry } from "prom-client";
import type { StateMachine } from "./apply/index.js";
import { bootstrapMembers, initialIdentity, initialMembers, publishAttributes } from "./cluster/bootstrap.js";
import { LEARNER_READY, RaftClusterControl } from "./cluster/control.js";
import { leaderKnown } from "./cluster/join.js";
import { PeerLink } from "./cluster/peer-link.js";
import { stopWhenRemoved } from "./cluster/removal.js";
import { LocalKv } from "./concurrency/local-kv.js";
import {
  electionTicks,
  GRPC_OVERHEAD_BYTES,
  minLeaseTtlSeconds,
  requestTimeoutMs,
  type ServerConfig,
} from "./config.js";
import { EtcdServerError } from "./errors.js";
import { statusServer } from "./http/status-server.js";
import { listenRepaired, type RepairedListener } from "./http2/index.js";
import { systemClock } from "./lease/clock.js";
import { LeaseRouter } from "./lease/lease-router.js";
import { Lessor } from "./lease/lessor.js";
import { IdGenerator } from "./member/id-generator.js";
import { encodeIdentity, loadOrCreateIdentity, type MemberIdentity } from "./member/identity.js";
import { type MemberStorage, openMemberStorage } from "./proposal/member-storage.js";
import type { Proposer } from "./proposal/proposer.js";
import { clusterService } from "./rpc/cluster.js";
import { DirectUnary } from "./rpc/direct-unary.js";
import { electionService } from "./rpc/election.js";
import { fillHeader, type HeaderSource } from "./rpc/header.js";
import { healthService } from "./rpc/health.js";
import { KV_RESPONSES, KV_SERVICE_DEFINITION, kvService } from "./rpc/kv.js";
import { LeaderMonitor } from "./rpc/leader-monitor.js";
import { leaseService, localTimeToLive, proposeGrant } from "./rpc/lease.js";
import { lockService } from "./rpc/lock.js";
import { maintenanceService, type RaftStatusSource } from "./rpc/maintenance.js";
import { memberChangeService } from "./rpc/member-changes.js";
import { strictDecoding } from "./rpc/strict-decoding.js";
import { watchService, watchServiceDefinition } from "./rpc/watch.js";
import { parseListenUrl } from "./url.js";
import { registerWatchMetrics, WATCH_DEFAULTS, WatchHub } from "./watch/index.js";

/** Concurrent HTTP/2 streams one client connection may open. */
export const MAX_CONCURRENT_STREAMS = 10_000;

/** Pause between attempts to publish the member's attributes. */
const PUBLISH_RETRY_MS = 1_000;

/** How long shutdown waits for in-flight calls before cutting them off. */
const SHUTDOWN_GRACE_MS = 5_000;

/** A running member: serves clients until {@link KeywayServer.close}. */
export class KeywayServer implements AsyncDisposable {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly grpc: Server,
    private readonly listeners: RepairedListener[],
    private readonly lessor: Lessor,
    private readonly storage: MemberStorage,
    private readonly link: PeerLink | undefined,
    private readonly leaderMonitor: LeaderMonitor,
    private readonly watchHub: WatchHub,
    private readonly http1: HttpServer,
    private readonly config: ServerConfig,
    /** host:port pairs actually bound, in the order of `listenClientUrls`. */
    readonly boundAddresses: string[],
  ) {}

  /**
   * Opens the data dir, recovers (backend, then WAL entries the backend has not applied), and
   * starts serving. `onFatal` is called if durability can no longer be promised (a WAL write or
   * fsync failed), or with a MemberRemovedError (cluster/removal.ts) once the member applied its own removal;
   * the caller should exit.
   */
  static async start(config: ServerConfig, onFatal: (error: Error) => void): Promise<KeywayServer> {
    const { logger } = config;
    const memberDir = join(config.dataDir, "member");
    await mkdir(memberDir, { recursive: true });
    const { identity, created } = await loadOrCreateIdentity(memberDir, () => initialIdentity(config));
    // A member joining a running cluster starts with no voters and waits for the leader's snapshot.
    const joining = created && config.initialClusterState === "existing";
    // Messages to other members go through the peer link, started once the member table is known.
    let link: PeerLink | undefined;
    const storage = await openMemberStorage({
      stateMachine: { dir: join(memberDir, "db"), minLeaseTtlSeconds: minLeaseTtlSeconds(config), logger },
      walDir: join(memberDir, "wal"),
      metadata: encodeIdentity(identity),
      memberId: identity.memberId,
      raft: {
        initialVoters: joining
          ? []
          : initialMembers(config.initialCluster, config.initialClusterToken).map((m) => m.id),
        peers: { send: (messages) => link?.send(messages) },
        tickMs: config.heartbeatIntervalMs,
        electionTicks: electionTicks(config),
        requestTimeoutMs: requestTimeoutMs(config),
      },
      maxRequestBytes: config.maxRequestBytes,
      checkpointEveryEntries: config.snapshotCount,
      logger,
      onFatal,
    });
    const { stateMachine, proposer, recovered } = storage;
    logger.info(
      { memberId: identity.memberId.toString(16), appliedIndex: stateMachine.appliedIndex, ...recovered },
      "recovered",
    );
    let router: LeaseRouter | undefined;
    const control = new RaftClusterControl(stateMachine, proposer, (to, kind, payload) =>
      link === undefined ? Promise.reject(new Error("no peers")) : link.request(to, kind, payload),
    );
    const startLink = async () => {
      link = await PeerLink.start({
        identity,
        listenPeerUrls: config.listenPeerUrls,
        stateMachine,
        proposer,
        serve: async (kind, payload) => {
          if (kind === LEARNER_READY) return control.serveLearnerReady(payload);
          if (router === undefined) throw new Error("not serving yet");
          return router.serve(kind, payload);
        },
        logger,
      });
    };
    try {
      await bootstrapMembers(stateMachine, config, identity);
      if (stateMachine.members().length > 1) await startLink();
      // A member alone listens for peers only once one is added (MemberAdd).
      else linkWhenJoined(stateMachine, startLink, logger);
      stopWhenRemoved(stateMachine, identity.memberId, onFatal);
      if (joining) await leaderKnown(proposer);
    } catch (error) {
      await storage.close();
      throw error;
    }
    // A member publishes its name and client URLs once a leader commits them; it serves meanwhile.
    publishInBackground(stateMachine, proposer, identity, config);
    const lessor = startLessor(stateMachine, proposer, config);
    const header: HeaderSource = {
      clusterId: identity.clusterId,
      memberId: identity.memberId,
      raftTerm: () => BigInt(proposer.leader.term),
      currentRevision: () => stateMachine.currentRevision,
    };
    const grpc = new Server({
      "grpc.max_receive_message_length": config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
      "grpc.max_send_message_length": 2 ** 31 - 1,
      // Bounded per connection (etcd allows 2^32-1): enough for 1,000 clients sharing a few
      // connections plus their watch and keep-alive streams; watch streams have their own bound.
      "grpc.max_concurrent_streams": MAX_CONCURRENT_STREAMS,
      "grpc.keepalive_permit_without_calls": 1,
      // channelz bookkeeping costs CPU on every call; nothing reads it.
      "grpc.enable_channelz": 0,
      "grpc.http2.min_ping_interval_without_data_ms": 5_000,
    });
    const kv = kvService({ stateMachine, proposer, header, maxTxnOps: config.maxTxnOps });
    grpc.addService(KV_SERVICE_DEFINITION, kv);
    // KV's handlers read only the request: they may skip grpc-js's per-call machinery.
    const direct = new DirectUnary(config.maxRequestBytes + GRPC_OVERHEAD_BYTES);
    direct.add(KV_SERVICE_DEFINITION, kv, KV_RESPONSES);
    router = new LeaseRouter({
      lessor,
      leader: () => proposer.leader,
      forward: (to, kind, payload) =>
        link?.request(to, kind, payload) ?? Promise.reject(new Error("no peers")),
      localTimeToLive: (request) => localTimeToLive(stateMachine, lessor, request),
    });
    const leaderMonitor = new LeaderMonitor(() => proposer.leader.lead, config.electionTimeoutMs);
    const leaseDeps = {
      stateMachine,
      proposer,
      lessor,
      router,
      leader: leaderMonitor,
      ids: new IdGenerator(identity.memberId, Date.now()),
      header,
    };
    grpc.addService(strictDecoding(etcdserverpb.LeaseService), leaseService(leaseDeps));
    const concurrencyDeps = {
      kv: new LocalKv(stateMachine, proposer),
      header,
      grantLease: async (ttlSeconds: number) => (await proposeGrant(leaseDeps, 0n, BigInt(ttlSeconds))).ID,
    };
    grpc.addService(strictDecoding(v3lockpb.LockService), lockService(concurrencyDeps));
    grpc.addService(strictDecoding(v3electionpb.ElectionService), electionService(concurrencyDeps));
    grpc.addService(
      strictDecoding(etcdserverpb.MaintenanceService),
      maintenanceService({
        stateMachine,
        header,
        raft: raftStatus(proposer, identity.memberId),
      }),
    );
    grpc.addService(strictDecoding(etcdserverpb.ClusterService), {
      ...clusterService(header, () => stateMachine.members()),
      ...memberChangeService({
        header,
        control,
        nowMs: Date.now,
      }),
    });
    grpc.addService(strictDecoding(health.HealthService), healthService());
    const watchHub = startWatchHub(stateMachine, header, config);
    grpc.addService(watchServiceDefinition(), watchService({ hub: watchHub, leader: leaderMonitor }));
    const registry = new Registry();
    registerWatchMetrics(watchHub, registry);
    const status = statusServer(registry);

    const { listeners, boundAddresses } = await listenAll(grpc, direct, config, status.accept);
    logger.info({ listenClientUrls: config.listenClientUrls }, "serving client requests");
    return new KeywayServer(
      grpc,
      listeners,
      lessor,
      storage,
      link,
      leaderMonitor,
      watchHub,
      status.server,
      config,
      boundAddresses,
    );
  }

  /**
   * Stops accepting calls, lets in-flight ones finish (writes included), makes everything
   * durable and closes the storage. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async shutdown(): Promise<void> {
    // Watch streams and HTTP keep-alives never end by themselves; the grace period is for writes.
    this.watchHub.close();
    this.leaderMonitor.close();
    this.http1.closeAllConnections();
    const listenersClosed = Promise.all(this.listeners.map((listener) => listener.close(SHUTDOWN_GRACE_MS)));
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.grpc.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.grpc.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await listenersClosed;
    this.lessor.close();
    await this.storage.close();
    await this.link?.close();
    this.config.logger.info({}, "stopped");
  }
}

/** Starts the peer link once the member table names another member. */
function linkWhenJoined(
  stateMachine: StateMachine,
  startLink: () => Promise<void>,
  logger: ServerConfig["logger"],
): void {
  let started = false;
  const stop = stateMachine.onMembersChanged((members) => {
    if (started || members.length < 2) return;
    started = true;
    stop();
    startLink().catch((err: unknown) => logger.error({ err }, "starting the peer listener failed"));
  });
}

/** Status and MoveLeader answered from the member's Raft node. */
function raftStatus(proposer: Proposer, self: bigint): RaftStatusSource {
  return {
    leader: () => proposer.leader.lead,
    raftIndex: () => proposer.commitIndex,
    raftTerm: () => proposer.leader.term,
    appliedIndex: () => proposer.appliedIndex,
    isLearner: () => proposer.confState.learners.includes(self),
    async moveLeader(target) {
      if (!proposer.leader.isLeader) throw new EtcdServerError("notLeader");
      if (!proposer.confState.voters.includes(target)) throw new EtcdServerError("badLeaderTransferee");
      if (target !== self) await proposer.transferLeadership(target);
    },
  };
}

/**
 * etcd's publish of the member's name and client URLs, retried until a leader commits it (a
 * member of a cluster may start before a quorum of its peers).
 */
function publishInBackground(
  stateMachine: StateMachine,
  proposer: Proposer,
  identity: MemberIdentity,
  config: ServerConfig,
): void {
  const attempt = () => {
    publishAttributes(stateMachine, (request) => proposer.propose(request), identity, config).catch(
      (err: unknown) => {
        if (err instanceof EtcdServerError && err.reason === "stopped") return;
        config.logger.warn({ err }, "publishing the member's name and client URLs failed; retrying");
        setTimeout(attempt, PUBLISH_RETRY_MS).unref();
      },
    );
  };
  attempt();
}

/** The watch hub of the member, fed by apply (after each batch commits). */
function startWatchHub(stateMachine: StateMachine, header: HeaderSource, config: ServerConfig): WatchHub {
  const hub = new WatchHub({
    history: stateMachine,
    limits: {
      ...WATCH_DEFAULTS,
      fragmentBytes: config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
      progressNotifyIntervalMs: config.watchProgressNotifyIntervalMs,
    },
    header: (revision) => ({ ...fillHeader(header, undefined), revision: BigInt(revision) }),
  });
  stateMachine.onEvents((revision, events) => hub.publish(revision, events));
  stateMachine.onRestore(() => hub.restored());
  return hub;
}

/**
 * Starts lease expiry over the applied state, kept by the leader only: on becoming leader the
 * leases that exist get their full TTL plus an election timeout again (etcd's Promote), later
 * grants and revokes reach the lessor from apply, and expired leases are revoked through the
 * log; on losing leadership it forgets every expiry (etcd's Demote).
 */
function startLessor(stateMachine: StateMachine, proposer: Proposer, config: ServerConfig): Lessor {
  const lessor = new Lessor({
    clock: systemClock,
    revoke: async (ID) => {
      const outcome = await proposer.propose({ $case: "leaseRevoke", leaseRevoke: { ID } });
      if (!outcome.ok && outcome.error.reason !== "leaseNotFound") throw outcome.error;
    },
    onRevokeError: (id, err) =>
      config.logger.warn({ err, leaseId: id.toString(16) }, "failed to revoke an expired lease; retrying"),
  });
  stateMachine.onLeaseChanges((changes) => lessor.apply(changes));
  const follow = (isLeader: boolean) => {
    if (isLeader) lessor.promote(stateMachine.allLeases(), config.electionTimeoutMs);
    else lessor.demote();
  };
  follow(proposer.leader.isLeader);
  proposer.onLeaderChange((leadership) => follow(leadership.isLeader));
  return lessor;
}

/**
 * Listens on every client URL. The server owns the TCP listeners; HTTP/1.1 connections go to
 * `http1` (/metrics, /health), the others to grpc-js: the native socket, or a stream that repairs
 * the `:authority` grpc-go sends for etcdctl's per-endpoint calls (see http2/index.ts). If one bind fails, those already open are closed.
 */
async function listenAll(
  grpc: Server,
  direct: DirectUnary,
  config: ServerConfig,
  http1: (socket: Socket) => void,
): Promise<{ listeners: RepairedListener[]; boundAddresses: string[] }> {
  const listeners: RepairedListener[] = [];
  const boundAddresses: string[] = [];
  try {
    for (const url of config.listenClientUrls) {
      const { hostname, port } = parseListenUrl(url);
      const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
      if (!direct.attach(grpc)) {
        config.logger.warn({ url }, "grpc-js internals changed: unary calls take grpc-js's path");
      }
      listeners.push(
        await listenRepaired(injector, hostname, port, {
          onError: (err) => config.logger.warn({ err }, "client connection cut"),
          onRoute: (route) => config.logger.debug({ route }, "client connection"),
          http1,
        }),
      );
      boundAddresses.push(`${hostname}:${listeners.at(-1)?.port}`);
    }
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.close()));
    throw error;
  }
  return { listeners, boundAddresses };
}
