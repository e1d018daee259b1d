import { etcdserverpb } from "@keyway/api";
import type { CallOptions } from "./call-options.js";
import { abortedError } from "./call-options.js";
import { badRequest, KeywayError } from "./errors.js";
import { nonNegative, uint64 } from "./keys.js";
import { headerOf, type ResponseHeader } from "./results.js";
import type { Transport, UnaryOptions } from "./transport.js";

const MAINTENANCE = etcdserverpb.MaintenanceService;

/** Options of calls that may target one member by its endpoint URL. */
export interface MemberCallOptions extends CallOptions {
  /** Endpoint URL of the member to ask; default: any endpoint. */
  endpoint?: string;
}

/** A member's status as etcd reports it. */
export interface MemberStatus {
  memberId: bigint;
  version: string;
  dbSizeBytes: bigint;
  dbSizeInUseBytes: bigint;
  /** Member id of the leader this member follows (0n: none). */
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  errors: string[];
  isLearner: boolean;
  header: ResponseHeader;
}

/** An active alarm. */
export interface Alarm {
  memberId: bigint;
  alarm: "nospace" | "corrupt" | "none";
}

const ALARM_NAMES: Record<number, Alarm["alarm"]> = {
  [etcdserverpb.AlarmType.NONE]: "none",
  [etcdserverpb.AlarmType.NOSPACE]: "nospace",
  [etcdserverpb.AlarmType.CORRUPT]: "corrupt",
};

function unaryOptions(options: MemberCallOptions): UnaryOptions {
  const { endpoint, signal, timeoutMs } = options;
  const out: UnaryOptions = {};
  if (endpoint !== undefined) out.endpoint = endpoint;
  if (signal !== undefined) out.signal = signal;
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  return out;
}

/** Maintenance calls. Status, alarm listing and hashes are retried; the rest are never resent. */
export class MaintenanceClient {
  constructor(private readonly transport: Transport) {}

  /** The status of one member (`endpoint`) or of whichever member answers. */
  async status(options: MemberCallOptions = {}): Promise<MemberStatus> {
    const r = await this.transport.unary(MAINTENANCE.status, {}, "safe", unaryOptions(options));
    const header = headerOf(r.header);
    return {
      memberId: header.memberId,
      version: r.version,
      dbSizeBytes: r.dbSize,
      dbSizeInUseBytes: r.dbSizeInUse,
      leader: r.leader,
      raftIndex: r.raftIndex,
      raftTerm: r.raftTerm,
      raftAppliedIndex: r.raftAppliedIndex,
      errors: r.errors,
      isLearner: r.isLearner,
      header,
    };
  }

  /** Active alarms of the cluster. */
  async alarms(options: CallOptions = {}): Promise<Alarm[]> {
    const request = { action: etcdserverpb.AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: 0 };
    const r = await this.transport.unary(MAINTENANCE.alarm, request, "safe", options);
    return r.alarms.map((a) => ({ memberId: a.memberID, alarm: ALARM_NAMES[a.alarm] ?? "none" }));
  }

  /** Clears an alarm (all members when `memberId` is 0n). */
  async alarmDisarm(alarm: Alarm, options: CallOptions = {}): Promise<Alarm[]> {
    const type = Number(Object.entries(ALARM_NAMES).find(([, name]) => name === alarm.alarm)?.[0]);
    if (!Number.isInteger(type)) throw badRequest(`unknown alarm ${JSON.stringify(alarm.alarm)}`);
    const request = {
      action: etcdserverpb.AlarmRequest_AlarmAction.DEACTIVATE,
      memberID: uint64(alarm.memberId, "memberId"),
      alarm: type,
    };
    const r = await this.transport.unary(MAINTENANCE.alarm, request, "unsafe", options);
    return r.alarms.map((a) => ({ memberId: a.memberID, alarm: ALARM_NAMES[a.alarm] ?? "none" }));
  }

  /** Defragments one member's backend (blocks that member while it runs). */
  async defragment(options: MemberCallOptions = {}): Promise<ResponseHeader> {
    const r = await this.transport.unary(MAINTENANCE.defragment, {}, "unsafe", unaryOptions(options));
    return headerOf(r.header);
  }

  /** Hash of a member's whole backend (testing aid). */
  async hash(options: MemberCallOptions = {}): Promise<number> {
    const r = await this.transport.unary(MAINTENANCE.hash, {}, "safe", unaryOptions(options));
    return r.hash;
  }

  /** Hash of the key-value history up to `revision` (0n: latest): equal on consistent members. */
  async hashKV(
    revision: bigint,
    options: MemberCallOptions = {},
  ): Promise<{ hash: number; compactRevision: bigint; header: ResponseHeader }> {
    const request = { revision: nonNegative(revision, "revision") };
    const r = await this.transport.unary(MAINTENANCE.hashKv, request, "safe", unaryOptions(options));
    return { hash: r.hash, compactRevision: r.compactRevision, header: headerOf(r.header) };
  }

  /** Makes `targetId` the leader; sent to the current leader (found via status when not given). */
  async moveLeader(targetId: bigint, options: MemberCallOptions = {}): Promise<ResponseHeader> {
    const request = { targetID: uint64(targetId, "targetId") };
    const endpoint = options.endpoint ?? (await this.leaderEndpoint(options));
    const r = await this.transport.unary(
      MAINTENANCE.moveLeader,
      request,
      "unsafe",
      unaryOptions({ ...options, endpoint }),
    );
    return headerOf(r.header);
  }

  private async leaderEndpoint(options: CallOptions): Promise<string> {
    for (const e of this.transport.pool.all()) {
      const status = await this.status({ ...options, endpoint: e.url }).catch(() => undefined);
      if (status !== undefined && status.leader === status.memberId) return e.url;
    }
    throw KeywayError.from(new Error("no endpoint is the leader"));
  }

  /**
   * Streams a member's backend snapshot: the database image followed by etcd's 32-byte SHA-256
   * trailer, as `etcdctl snapshot save` writes it.
   */
  async *snapshot(options: MemberCallOptions = {}): AsyncIterable<Buffer> {
    const method = MAINTENANCE.snapshot;
    const ctx = this.transport.context(options);
    const endpoint =
      options.endpoint === undefined
        ? this.transport.pool.pick()
        : this.transport.pool.byUrl(options.endpoint);
    if (endpoint === undefined) throw badRequest(`unknown endpoint ${options.endpoint}`);
    const metadata = await this.transport.streamMetadata(ctx, false);
    const call = endpoint.client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      {},
      metadata,
      ctx.deadline === undefined ? {} : { deadline: ctx.deadline },
    );
    const onAbort = () => call.cancel();
    ctx.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const chunk of call as AsyncIterable<etcdserverpb.SnapshotResponse>) yield chunk.blob;
    } catch (err) {
      if (ctx.signal?.aborted === true) throw abortedError(ctx.signal);
      throw this.transport.classify(err, endpoint, ctx);
    } finally {
      ctx.signal?.removeEventListener("abort", onAbort);
      call.cancel();
    }
  }
}
