import type { ClientDuplexStream } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { Backoff } from "./backoff.js";
import type { Endpoint } from "./endpoint.js";
import { KeywayError } from "./errors.js";
import { KeepAlive, type KeepAliveSender } from "./keep-alive.js";
import type { Transport } from "./transport.js";

const KEEP_ALIVE = etcdserverpb.LeaseService.leaseKeepAlive;
type Stream = ClientDuplexStream<etcdserverpb.LeaseKeepAliveRequest, etcdserverpb.LeaseKeepAliveResponse>;

/**
 * The client's one LeaseKeepAlive stream, shared by every kept-alive lease. It carries
 * require-leader metadata; when it breaks it reopens on another endpoint and every lease renews
 * at once there.
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
  /** Why the stream last broke (for debugging; keep-alives report loss by their own deadline). */
  lastError: KeywayError | undefined;

  constructor(private readonly transport: Transport) {}

  /** Starts keeping `id` alive; `ttlSeconds` bounds how long a renewal may be missing. */
  start(id: bigint, ttlSeconds: bigint): KeepAlive {
    let set = this.handles.get(id);
    if (set === undefined) {
      set = new Set();
      this.handles.set(id, set);
    }
    const handle = new KeepAlive(id, ttlSeconds, this);
    set.add(handle);
    return handle;
  }

  /** Sends one renewal of `id`, opening the stream first if needed. */
  send(id: bigint): void {
    if (this.stream === undefined) return void this.open();
    this.stream.write({ ID: id });
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
      stream.on("data", (response: etcdserverpb.LeaseKeepAliveResponse) => this.onResponse(response));
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

  private onResponse(response: etcdserverpb.LeaseKeepAliveResponse): void {
    this.backoff.reset();
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
