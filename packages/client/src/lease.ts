import { status } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { abortedError, type CallOptions } from "./call-options.js";
import { badRequest, KeywayError } from "./errors.js";
import type { KeepAlive } from "./keep-alive.js";
import type { KeepAliveStream } from "./keep-alive-stream.js";
import type { KeyMapper } from "./key-mapper.js";
import { nonNegative } from "./keys.js";
import { callOptions } from "./kv.js";
import { checkOptionNames } from "./requests.js";
import { headerOf, type ResponseHeader } from "./results.js";
import type { Transport } from "./transport.js";

const LEASE = etcdserverpb.LeaseService;

/** A granted lease. */
export interface LeaseGrant {
  id: bigint;
  /** TTL granted by etcd, which raises TTLs below its minimum (2 s by default). */
  ttlSeconds: bigint;
  header: ResponseHeader;
}

/** A lease's remaining time. */
export interface LeaseTimeToLive {
  id: bigint;
  /** Seconds left; -1n when the lease does not exist (etcd answers rather than failing). */
  ttlSeconds: bigint;
  grantedTtlSeconds: bigint;
  /** Keys attached to the lease, with `keys: true`. */
  keys: Buffer[];
  header: ResponseHeader;
}

/** Options of keepAlive. */
export interface KeepAliveOptions extends CallOptions {
  /**
   * The lease's TTL, if known; it bounds how long renewals may fail before `lost`. Absent: asked
   * from etcd with TimeToLive (which also fails at once for a lease that does not exist), and
   * the lease counts as lost at the TimeToLive's send time plus the remaining TTL unless renewed.
   */
  ttlSeconds?: bigint | number;
  /**
   * With `ttlSeconds`: epoch ms at which the grant (or last renewal) of the lease was sent; the
   * lease counts as lost `ttlSeconds` after it unless renewed. Default: now.
   */
  renewedAtMs?: number;
}

/** Lease calls. All unary lease calls are retried on UNAVAILABLE, as Go's client does. */
export class LeaseClient {
  constructor(
    private readonly transport: Transport,
    private readonly mapper: KeyMapper,
    private readonly keepAlives: KeepAliveStream,
  ) {}

  /** Grants a lease of `ttlSeconds` (an id may be chosen with `id`). */
  async grant(ttlSeconds: bigint | number, options: CallOptions & { id?: bigint } = {}): Promise<LeaseGrant> {
    checkOptionNames(options, ["id"], "lease.grant");
    const TTL = nonNegative(ttlSeconds, "ttlSeconds");
    if (TTL === 0n) throw badRequest("ttlSeconds must be positive");
    const request = { TTL, ID: nonNegative(options.id, "id") };
    const response = await this.transport.unary(
      LEASE.leaseGrant,
      request,
      "safe",
      callOptions(options.signal, options.timeoutMs),
    );
    if (response.error !== "") {
      throw new KeywayError({ code: status.UNKNOWN, reason: "unknown", message: response.error });
    }
    return { id: response.ID, ttlSeconds: response.TTL, header: headerOf(response.header) };
  }

  /** Revokes a lease and deletes its keys (one revision). Fails with `leaseNotFound` if unknown. */
  async revoke(id: bigint, options: CallOptions = {}): Promise<ResponseHeader> {
    const request = { ID: leaseId(id) };
    const response = await this.transport.unary(LEASE.leaseRevoke, request, "safe", options);
    return headerOf(response.header);
  }

  /** Remaining TTL (and attached keys with `keys: true`). */
  async timeToLive(id: bigint, options: CallOptions & { keys?: boolean } = {}): Promise<LeaseTimeToLive> {
    checkOptionNames(options, ["keys"], "lease.timeToLive");
    const request = { ID: leaseId(id), keys: options.keys === true };
    const response = await this.transport.unary(
      LEASE.leaseTimeToLive,
      request,
      "safe",
      callOptions(options.signal, options.timeoutMs),
    );
    return {
      id: response.ID,
      ttlSeconds: response.TTL,
      grantedTtlSeconds: response.grantedTTL,
      keys: response.keys.map((k) => this.mapper.strip(k)),
      header: headerOf(response.header),
    };
  }

  /** Ids of every lease. */
  async leases(options: CallOptions = {}): Promise<bigint[]> {
    const response = await this.transport.unary(LEASE.leaseLeases, {}, "safe", options);
    return response.leases.map((l) => l.ID);
  }

  /**
   * Keeps a lease alive until `close()`. The returned handle emits `renewed` and `lost`, and its
   * `signal` aborts when the lease is lost.
   */
  async keepAlive(id: bigint, options: KeepAliveOptions = {}): Promise<KeepAlive> {
    checkOptionNames(options, ["ttlSeconds", "renewedAtMs"], "lease.keepAlive");
    if (options.signal?.aborted === true) throw abortedError(options.signal);
    if (options.ttlSeconds !== undefined) {
      const ttl = nonNegative(options.ttlSeconds, "ttlSeconds");
      const renewedAt = options.renewedAtMs ?? Date.now();
      if (!Number.isFinite(renewedAt)) throw badRequest(`renewedAtMs must be a number, got ${renewedAt}`);
      return this.keepAlives.start(leaseId(id), ttl, renewedAt + Number(ttl) * 1000);
    }
    if (options.renewedAtMs !== undefined) throw badRequest("renewedAtMs goes with ttlSeconds");
    const sentAt = Date.now();
    const live = await this.timeToLive(id, callOptions(options.signal, options.timeoutMs));
    if (live.ttlSeconds < 0n) throw notFound(id);
    return this.keepAlives.start(
      leaseId(id),
      live.grantedTtlSeconds,
      sentAt + Number(live.ttlSeconds) * 1000,
    );
  }
}

function leaseId(id: bigint): bigint {
  const value = nonNegative(id, "lease id");
  if (value === 0n) throw badRequest("lease id must not be 0");
  return value;
}

function notFound(id: bigint): KeywayError {
  return new KeywayError({
    code: status.NOT_FOUND,
    reason: "leaseNotFound",
    message: `etcdserver: requested lease not found (${id})`,
  });
}
