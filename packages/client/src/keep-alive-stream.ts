import { type ClientDuplexStream, status } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { Backoff } from "./backoff.js";
import type { Endpoint } from "./endpoint.js";
import { closedError, KeywayError } from "./errors.js";
import { KeepAlive, type KeepAliveSender } from "./keep-alive.js";
import type { Transport } from "./transport.js";

const KEEP_ALIVE = etcdserverpb.LeaseService.leaseKeepAlive;
type Stream = ClientDuplexStream<etcdserverpb.LeaseKeepAliveRequest, etcdserverpb.LeaseKeepAliveResponse>;

/** Shortest wait for a keep-alive answer before the stream counts as broken. */
const MIN_ANSWER_TIMEOUT_MS = 500;

/**
 * The client's one LeaseKeepAlive stream, shared by every kept-alive lease. It carries
 * require-leader metadata; when it breaks it reopens on another endpoint and every lease renews
 * at once there. A stream that leaves a renewal unanswered for a third of the shortest TTL is
 * broken too: its member went silent (a connection that stays open but carries nothing), so the
 * endpoint is marked suspect and the stream moves on, well before any lease can expire.
 */
export class KeepAliveStream implements KeepAliveSender {
  private readonly handles = new Map<bigint, Set<KeepAlive>>();
  private stream: Stream | undefined;
  private endpoint: Endpoint | undefined;
  private opening = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff({ initialMs: 100, maxMs: 2_000 });
  private avoid: Endpoint | undefined;
  private closed = false;
  /** Renewals written on the current stream and not answered yet. */
  private outstanding = 0;
  private watchdog: NodeJS.Timeout | undefined;
  /** Why the stream last broke (for debugging; keep-alives report loss by their own deadline). */
  lastError: KeywayError | undefined;

  constructor(private readonly transport: Transport) {}

  /**
   * Starts keeping `id` alive; `ttlSeconds` bounds how long a renewal may be missing, and the
   * lease counts as lost at `validUntilMs` (epoch ms) unless renewed before.
   */
  start(id: bigint, ttlSeconds: bigint, validUntilMs: number): KeepAlive {
    if (this.closed) throw closedError("client");
    let set = this.handles.get(id);
    if (set === undefined) {
      set = new Set();
      this.handles.set(id, set);
    }
    const handle = new KeepAlive(id, ttlSeconds, validUntilMs, this);
    set.add(handle);
    handle.begin();
    return handle;
  }

  /** Sends one renewal of `id`, opening the stream first if needed; false if none is open. */
  send(id: bigint): boolean {
    const stream = this.stream;
    if (stream === undefined) {
      void this.open();
      return false;
    }
    stream.write({ ID: id });
    if (this.outstanding++ === 0) this.armWatchdog(stream);
    return true;
  }

  /**
   * Breaks `stream` if it still has renewals unanswered a third of the shortest TTL after the
   * oldest of them was sent (or after its last answer).
   */
  private armWatchdog(stream: Stream): void {
    clearTimeout(this.watchdog);
    const timeoutMs = this.answerTimeoutMs();
    this.watchdog = setTimeout(() => {
      if (stream !== this.stream || this.outstanding === 0) return;
      const url = this.endpoint?.url ?? "the endpoint";
      const cause = new KeywayError({
        code: status.UNAVAILABLE,
        reason: "unavailable",
        message: `no keep-alive answer from ${url} within ${Math.round(timeoutMs)} ms`,
      });
      this.onBroken(stream, cause);
    }, timeoutMs);
    this.watchdog.unref();
  }

  private answerTimeoutMs(): number {
    let shortestTtlMs = Number.POSITIVE_INFINITY;
    for (const set of this.handles.values()) {
      for (const handle of set) shortestTtlMs = Math.min(shortestTtlMs, Number(handle.ttlSeconds) * 1000);
    }
    return Math.max(MIN_ANSWER_TIMEOUT_MS, Math.min(shortestTtlMs / 3, 2 ** 31 - 1));
  }

  /** Forgets a stopped keep-alive; the stream closes when none are left. */
  remove(handle: KeepAlive): void {
    const set = this.handles.get(handle.id);
    set?.delete(handle);
    if (set?.size === 0) this.handles.delete(handle.id);
    if (this.handles.size === 0) this.shutdown();
  }

  private async open(): Promise<void> {
    if (this.opening || this.closed || this.reopenTimer !== undefined) return;
    this.opening = true;
    try {
      const metadata = await this.transport.streamMetadata(this.transport.context(undefined), true);
      // Closed, or every keep-alive stopped, while the token was fetched: open nothing.
      if (this.closed || this.handles.size === 0) return;
      const endpoint = this.transport.pool.pick(this.avoid === undefined ? undefined : new Set([this.avoid]));
      const stream = endpoint.client.makeBidiStreamRequest(
        KEEP_ALIVE.path,
        KEEP_ALIVE.requestSerialize,
        KEEP_ALIVE.responseDeserialize,
        metadata,
      );
      this.stream = stream;
      this.endpoint = endpoint;
      endpoint.inflight++;
      stream.on("data", (response: etcdserverpb.LeaseKeepAliveResponse) => this.onResponse(stream, response));
      stream.on("error", (err) => this.onBroken(stream, KeywayError.from(err)));
      stream.on("end", () => this.onBroken(stream, KeywayError.from(new Error("keep-alive stream ended"))));
      for (const set of this.handles.values()) for (const handle of set) handle.resend();
    } catch (err) {
      this.lastError = KeywayError.from(err);
      this.scheduleReopen();
    } finally {
      this.opening = false;
    }
  }

  private onResponse(stream: Stream, response: etcdserverpb.LeaseKeepAliveResponse): void {
    this.backoff.reset();
    // The stream answers: restart the wait for whatever is still unanswered.
    this.outstanding = Math.max(0, this.outstanding - 1);
    if (this.outstanding > 0) this.armWatchdog(stream);
    else clearTimeout(this.watchdog);
    this.transport.observe(response);
    const set = this.handles.get(response.ID);
    if (set !== undefined) for (const handle of [...set]) handle.onResponse(response.TTL);
  }

  private onBroken(stream: Stream, cause: KeywayError): void {
    if (stream !== this.stream) return;
    this.detach();
    if (cause.reason === "unavailable") this.endpoint?.markDown(cause);
    this.avoid = this.endpoint;
    this.lastError = cause;
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (this.closed || this.handles.size === 0 || this.reopenTimer !== undefined) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      void this.open();
    }, this.backoff.next());
  }

  private detach(): void {
    const stream = this.stream;
    if (stream === undefined) return;
    this.stream = undefined;
    this.outstanding = 0;
    clearTimeout(this.watchdog);
    if (this.endpoint !== undefined) this.endpoint.inflight--;
    stream.removeAllListeners("data");
    stream.on("error", () => undefined);
    stream.cancel();
  }

  private shutdown(): void {
    clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    this.detach();
  }

  /** Stops every keep-alive (without revoking) and closes the stream. */
  close(): void {
    this.closed = true;
    for (const set of [...this.handles.values()]) for (const handle of [...set]) handle.close();
    this.shutdown();
  }
}
