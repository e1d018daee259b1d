import { Metadata, status } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import type { EventEmitter } from "eventemitter3";
import pRetry from "p-retry";
import { type AuthCredentials, AuthTokens } from "./auth-token.js";
import {
  abortedError,
  type CallContext,
  type CallOptions,
  callContext,
  checkContext,
  timeoutError,
} from "./call-options.js";
import type { ClientEvents } from "./client-events.js";
import type { Endpoint } from "./endpoint.js";
import type { EndpointPool } from "./endpoint-pool.js";
import { KeywayError, type KeywayErrorInit, type KeywayErrorReason } from "./errors.js";

/** A gRPC method as the generated service definitions describe it. */
export interface UnaryMethod<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly responseDeserialize: (value: Buffer) => Res;
}

/**
 * Which calls may be retried.
 * - `safe`: reads, lease calls and read-only admin calls; retried on UNAVAILABLE, on another endpoint.
 * - `unsafe`: Put, DeleteRange, Txn, Compact and admin writes; sent only on an established
 *   connection and never sent twice. Only a failure to connect moves them to another endpoint.
 */
export type RetryPolicy = "safe" | "unsafe";

/** Options of one unary call. */
export interface UnaryOptions extends CallOptions {
  /** Send to this endpoint URL only (maintenance calls that target one member). */
  endpoint?: string;
}

/** Transport settings (filled from the client options). */
export interface TransportSettings {
  readonly defaultTimeoutMs: number | undefined;
  /** Retries of a safe call after the first attempt. */
  readonly retries: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** How long an unsafe call waits for a connection before trying the next endpoint. */
  readonly connectTimeoutMs: number;
  /** Deadline of the first attempt of a safe call; doubled on each retry. */
  readonly attemptTimeoutMs: number;
  readonly auth: AuthCredentials | undefined;
}

/**
 * Runs calls on the endpoint pool: picks an endpoint, attaches the auth token, applies the
 * deadline and signal to the grpc-js call, retries what is safe, and reports endpoint health.
 */
export class Transport {
  private readonly tokens: AuthTokens | undefined;
  private maxTerm = 0n;

  constructor(
    readonly pool: EndpointPool,
    private readonly events: EventEmitter<ClientEvents>,
    private readonly settings: TransportSettings,
  ) {
    this.tokens =
      settings.auth === undefined
        ? undefined
        : new AuthTokens(settings.auth, (c, ctx) => this.authenticate(c, ctx));
  }

  /** The context (deadline, signal) of a call starting now. */
  context(options: CallOptions | undefined): CallContext {
    return callContext(options, this.settings.defaultTimeoutMs);
  }

  /** Runs one unary call under the given retry policy. */
  unary<Req, Res>(
    method: UnaryMethod<Req, Res>,
    request: Req,
    policy: RetryPolicy,
    options?: UnaryOptions,
  ): Promise<Res> {
    const ctx = this.context(options);
    const target = options?.endpoint;
    return policy === "safe"
      ? this.safeCall(method, request, ctx, target)
      : this.unsafeCall(method, request, ctx, target);
  }

  private async safeCall<Req, Res>(
    method: UnaryMethod<Req, Res>,
    request: Req,
    ctx: CallContext,
    target: string | undefined,
  ): Promise<Res> {
    checkContext(ctx);
    let failed: Set<Endpoint> | undefined;
    let attempts = 0;
    const attempt = async () => {
      checkContext(ctx);
      if (failed !== undefined && failed.size >= this.pool.all().length) failed.clear();
      const endpoint = this.endpointFor(target, failed);
      const attemptCtx = this.attemptContext(ctx, attempts++);
      try {
        await this.connect(endpoint, attemptCtx);
        return await this.withAuth(endpoint, method, request, attemptCtx);
      } catch (err) {
        failed ??= new Set();
        failed.add(endpoint);
        throw this.attemptFailure(err, endpoint, ctx);
      }
    };
    // The first attempt runs outside p-retry: most calls succeed and should not pay for it.
    try {
      return await attempt();
    } catch (err) {
      if (!this.retryable(err, ctx) || this.settings.retries === 0) throw err;
    }
    try {
      return await pRetry(attempt, {
        retries: this.settings.retries - 1,
        minTimeout: this.settings.retryMinMs,
        maxTimeout: this.settings.retryMaxMs,
        factor: 2,
        randomize: true,
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
        shouldRetry: (err) => this.retryable(err, ctx),
      });
    } catch (err) {
      if (ctx.signal?.aborted === true) throw abortedError(ctx.signal);
      throw KeywayError.from(err);
    }
  }

  /**
   * The context of one attempt of a safe call: the call's deadline, shortened to the attempt
   * timeout (doubled on each retry, so a read that is slow but answered still gets through).
   */
  private attemptContext(ctx: CallContext, attempt: number): CallContext {
    const timeoutMs = this.settings.attemptTimeoutMs * 2 ** Math.min(attempt, 10);
    return { deadline: earliest(ctx.deadline, Date.now() + timeoutMs), signal: ctx.signal };
  }

  /**
   * An attempt that ran out of its own time while the call has time left found a silent
   * member: mark it suspect and report UNAVAILABLE, so the call moves to another endpoint.
   */
  private attemptFailure(err: unknown, endpoint: Endpoint, ctx: CallContext): unknown {
    if (!(err instanceof KeywayError) || err.code !== status.DEADLINE_EXCEEDED || pastDeadline(ctx))
      return err;
    const error = new KeywayError({
      code: status.UNAVAILABLE,
      reason: "unavailable",
      message: `no answer from ${endpoint.url} within the attempt timeout`,
      cause: err,
    });
    endpoint.markDown(error);
    return error;
  }

  /** Safe calls are retried on UNAVAILABLE while the deadline allows. */
  private retryable(err: unknown, ctx: CallContext): boolean {
    return err instanceof KeywayError && err.code === status.UNAVAILABLE && !pastDeadline(ctx);
  }

  private async unsafeCall<Req, Res>(
    method: UnaryMethod<Req, Res>,
    request: Req,
    ctx: CallContext,
    target: string | undefined,
  ): Promise<Res> {
    let tried: Set<Endpoint> | undefined;
    for (;;) {
      checkContext(ctx);
      const endpoint = this.endpointFor(target, tried);
      try {
        await this.connect(endpoint, ctx);
      } catch (err) {
        // Nothing was sent: moving to another endpoint cannot apply the write twice.
        tried ??= new Set();
        tried.add(endpoint);
        if (target !== undefined || tried.size >= this.pool.all().length || !this.retryable(err, ctx))
          throw notSent(err);
        continue;
      }
      return this.withAuth(endpoint, method, request, ctx);
    }
  }

  /**
   * Waits (at most `connectTimeoutMs`) for a connection to the endpoint before a call is sent, so
   * an unreachable or black-holed member costs one connect timeout instead of a TCP timeout, and
   * a write knows nothing was sent when it fails here.
   */
  private async connect(endpoint: Endpoint, ctx: CallContext): Promise<void> {
    if (endpoint.isReady()) return;
    try {
      await endpoint.waitReady(earliest(ctx.deadline, Date.now() + this.settings.connectTimeoutMs));
    } catch (err) {
      if (pastDeadline(ctx)) throw timeoutError();
      endpoint.markDown(err);
      throw unavailable(endpoint, err);
    }
  }

  private endpointFor(target: string | undefined, exclude: ReadonlySet<Endpoint> | undefined): Endpoint {
    if (target === undefined) return this.pool.pick(exclude);
    const endpoint = this.pool.byUrl(target);
    if (endpoint === undefined) throw KeywayError.from(new Error(`unknown endpoint ${target}`));
    return endpoint;
  }

  private async withAuth<Req, Res>(
    endpoint: Endpoint,
    method: UnaryMethod<Req, Res>,
    request: Req,
    ctx: CallContext,
  ): Promise<Res> {
    if (this.tokens === undefined || method.path === etcdserverpb.AuthService.authenticate.path) {
      return this.send(endpoint, method, request, ctx, undefined);
    }
    const token = await this.tokens.get(ctx);
    try {
      return await this.send(endpoint, method, request, ctx, token);
    } catch (err) {
      // etcd rejects a call with a bad token before doing anything, so a resend is safe.
      if (!KeywayError.is(err, "invalidAuthToken", "authOldRevision")) throw err;
      this.tokens.invalidate(token);
      return this.send(endpoint, method, request, ctx, await this.tokens.get(ctx));
    }
  }

  /** Sends one grpc-js call, counting it in flight on the endpoint. */
  private send<Req, Res>(
    endpoint: Endpoint,
    method: UnaryMethod<Req, Res>,
    request: Req,
    ctx: CallContext,
    token: string | undefined,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      // The signal may have fired while we waited for a connection or a token.
      if (ctx.signal?.aborted === true) return reject(abortedError(ctx.signal));
      const metadata = new Metadata();
      if (token !== undefined) metadata.set("token", token);
      const signal = ctx.signal;
      endpoint.inflight++;
      const call = endpoint.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        ctx.deadline === undefined ? {} : { deadline: ctx.deadline },
        (err, response) => {
          endpoint.inflight--;
          signal?.removeEventListener("abort", onAbort);
          if (err !== null || response === undefined) reject(this.classify(err, endpoint, ctx));
          else {
            this.observe(response);
            resolve(response);
          }
        },
      );
      const onAbort = () => call.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Maps a call error, marking the endpoint down on transport failures. */
  classify(err: unknown, endpoint: Endpoint, ctx: CallContext): KeywayError {
    if (ctx.signal?.aborted === true) return abortedError(ctx.signal);
    const error = KeywayError.from(err);
    // Past the caller's deadline, a failure that is not one of etcd's own errors is the deadline
    // (etcd may answer it as Unknown "context deadline exceeded" instead of DEADLINE_EXCEEDED).
    if (pastDeadline(ctx) && TRANSPORT_REASONS.has(error.reason)) return timeoutError();
    if (error.reason === "unavailable") endpoint.markDown(error);
    return error;
  }

  /** Notices leader elections from the Raft term of response headers. */
  observe(response: unknown): void {
    const header = (response as { header?: etcdserverpb.ResponseHeader }).header;
    if (header === undefined || header.raftTerm <= this.maxTerm) return;
    const first = this.maxTerm === 0n;
    this.maxTerm = header.raftTerm;
    if (!first) this.events.emit("leader-changed", { raftTerm: header.raftTerm, memberId: header.memberId });
  }

  /**
   * Metadata for a stream: the auth token, and `hasleader` so a member cut off from its leader
   * ends the stream (and the client fails over) instead of leaving it silent.
   */
  async streamMetadata(ctx: CallContext, requireLeader: boolean): Promise<Metadata> {
    const metadata = new Metadata();
    if (requireLeader) metadata.set("hasleader", "true");
    if (this.tokens !== undefined) metadata.set("token", await this.tokens.get(ctx));
    return metadata;
  }

  /** Forgets a token a stream was refused with. */
  invalidateToken(metadata: Metadata): void {
    const token = metadata.get("token")[0];
    if (typeof token === "string") this.tokens?.invalidate(token);
  }

  private async authenticate(credentials: AuthCredentials, ctx: CallContext): Promise<string> {
    const request = etcdserverpb.AuthenticateRequest.fromPartial({
      name: credentials.username,
      password: credentials.password,
    });
    const remaining = ctx.deadline === undefined ? undefined : Math.max(1, ctx.deadline - Date.now());
    const options: UnaryOptions = {};
    if (remaining !== undefined) options.timeoutMs = remaining;
    if (ctx.signal !== undefined) options.signal = ctx.signal;
    const response = await this.unary(etcdserverpb.AuthService.authenticate, request, "safe", options);
    return response.token;
  }
}

const TRANSPORT_REASONS: ReadonlySet<KeywayErrorReason> = new Set([
  "unknown",
  "timeout",
  "unavailable",
  "aborted",
]);

function pastDeadline(ctx: CallContext): boolean {
  return ctx.deadline !== undefined && Date.now() >= ctx.deadline;
}

function earliest(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}

/** The error of a write no attempt of which was sent: it certainly took no effect. */
function notSent(err: unknown): KeywayError {
  const e = KeywayError.from(err);
  const init: KeywayErrorInit = {
    code: e.code,
    reason: e.reason,
    message: e.message,
    notSent: true,
    cause: e.cause,
  };
  if (e.compactRevision !== undefined) init.compactRevision = e.compactRevision;
  return new KeywayError(init);
}

function unavailable(endpoint: Endpoint, cause: unknown): KeywayError {
  return new KeywayError({
    code: status.UNAVAILABLE,
    reason: "unavailable",
    message: `no connection to ${endpoint.url}`,
    cause,
  });
}
