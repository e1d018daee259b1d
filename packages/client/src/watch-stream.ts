import type { ClientDuplexStream, Metadata } from "@grpc/grpc-js";
import { etcdserverpb, type mvccpb } from "@keyway/api";
import type { Endpoint } from "./endpoint.js";
import { KeywayError } from "./errors.js";
import type { Transport } from "./transport.js";
import { type Watcher, type WatchHost, watchCancelError } from "./watcher.js";

const WATCH = etcdserverpb.WatchService.watch;

/** Called once when a stream breaks, with the watchers it carried. */
export type StreamBroken = (stream: WatchStream, watchers: Watcher[], cause: KeywayError) => void;

/**
 * One Watch bidi stream on one endpoint, multiplexing many watchers. Creates are sent one at a
 * time and matched to `created` responses in order, as etcd answers them in order and neither
 * the Go nor the Node client relies on client-chosen watch ids.
 */
export class WatchStream implements WatchHost {
  private call: ClientDuplexStream<etcdserverpb.WatchRequest, etcdserverpb.WatchResponse> | undefined;
  private readonly pending: Watcher[] = [];
  private readonly byId = new Map<bigint, Watcher>();
  private readonly fragments = new Map<bigint, mvccpb.Event[]>();
  private broken = false;
  private metadata: Metadata | undefined;

  constructor(
    readonly endpoint: Endpoint,
    readonly requireLeader: boolean,
    private readonly transport: Transport,
    private readonly onBroken: StreamBroken,
  ) {}

  /** Opens the gRPC stream; watchers added meanwhile are created once it is open. */
  async open(): Promise<void> {
    try {
      const metadata = await this.transport.streamMetadata(
        this.transport.context(undefined),
        this.requireLeader,
      );
      if (this.broken) return;
      this.metadata = metadata;
      const call = this.endpoint.client.makeBidiStreamRequest(
        WATCH.path,
        WATCH.requestSerialize,
        WATCH.responseDeserialize,
        metadata,
      );
      this.call = call;
      this.endpoint.inflight++;
      call.on("data", (response: etcdserverpb.WatchResponse) => this.onResponse(response));
      call.on("error", (err) => this.fail(KeywayError.from(err), metadata));
      call.on("end", () => this.fail(KeywayError.from(new Error("watch stream ended by the server"))));
      const head = this.pending[0];
      if (head !== undefined) this.send(head.createRequest());
    } catch (err) {
      this.fail(KeywayError.from(err));
    }
  }

  /** False once the stream ended or broke; a new stream must then be opened. */
  get usable(): boolean {
    return !this.broken;
  }

  /** Number of watchers on the stream, created or waiting. */
  get size(): number {
    return this.pending.length + this.byId.size;
  }

  /** Queues a watcher for creation. */
  add(watcher: Watcher): void {
    watcher.setHost(this);
    this.pending.push(watcher);
    if (this.pending.length === 1 && this.call !== undefined) this.send(watcher.createRequest());
  }

  /** Removes a watcher, canceling it on the server if it was created. */
  detach(watcher: Watcher): void {
    const index = this.pending.indexOf(watcher);
    // The head's create is in flight: its `created` answer will cancel it (see onCreated).
    if (index > 0) this.pending.splice(index, 1);
    for (const [id, w] of this.byId) {
      if (w !== watcher) continue;
      this.byId.delete(id);
      this.send({ requestUnion: { $case: "cancelRequest", cancelRequest: { watchId: id } } });
    }
    if (this.size === 0) this.end();
  }

  private send(request: etcdserverpb.WatchRequest): void {
    if (this.call !== undefined && !this.broken) this.call.write(request);
  }

  private onResponse(response: etcdserverpb.WatchResponse): void {
    if (response.created) {
      this.onCreated(response);
      return;
    }
    const watcher = this.byId.get(response.watchId);
    if (response.canceled) {
      this.byId.delete(response.watchId);
      watcher?.fail(watchCancelError(response, watcher.nextRevision));
      if (this.size === 0) this.end();
      return;
    }
    if (response.fragment) {
      const parts = this.fragments.get(response.watchId) ?? [];
      parts.push(...response.events);
      this.fragments.set(response.watchId, parts);
      return;
    }
    const head = this.fragments.get(response.watchId);
    const events = head === undefined ? response.events : [...head, ...response.events];
    this.fragments.delete(response.watchId);
    if (events.length > 0) watcher?.onEvents(events);
    else this.onProgress(response);
  }

  private onProgress(response: etcdserverpb.WatchResponse): void {
    const revision = response.header?.revision ?? 0n;
    if (revision === 0n) return;
    const targets = response.watchId === -1n ? [...this.byId.values()] : [this.byId.get(response.watchId)];
    for (const w of targets) w?.onProgress(revision);
  }

  private onCreated(response: etcdserverpb.WatchResponse): void {
    const watcher = this.pending.shift();
    const next = this.pending[0];
    if (next !== undefined) this.send(next.createRequest());
    if (watcher === undefined) return;
    if (response.canceled) {
      const error = watchCancelError(response, watcher.nextRevision);
      if (KeywayError.is(error, "invalidAuthToken", "authOldRevision") && !watcher.isDone) {
        // The stream's token went stale: move every watcher to a new stream with a fresh token.
        this.pending.unshift(watcher);
        this.fail(error, this.metadata);
        return;
      }
      watcher.fail(error);
    } else if (watcher.isDone) {
      this.send({ requestUnion: { $case: "cancelRequest", cancelRequest: { watchId: response.watchId } } });
    } else {
      this.byId.set(response.watchId, watcher);
      watcher.onCreated(this.endpoint.url, response.header?.revision ?? 0n);
    }
    if (this.size === 0) this.end();
  }

  /** Closes the stream without reporting a failure. */
  end(): void {
    if (this.broken) return;
    this.broken = true;
    this.release();
    this.call?.end();
    this.call?.cancel();
  }

  private fail(cause: KeywayError, metadata?: Metadata): void {
    if (this.broken) return;
    this.broken = true;
    this.release();
    this.call?.cancel();
    if (metadata !== undefined && KeywayError.is(cause, "invalidAuthToken", "authOldRevision")) {
      this.transport.invalidateToken(metadata);
    }
    const watchers = [...this.pending, ...this.byId.values()].filter((w) => !w.isDone);
    this.pending.length = 0;
    this.byId.clear();
    this.onBroken(this, watchers, cause);
  }

  private release(): void {
    if (this.call !== undefined) this.endpoint.inflight--;
    this.call?.removeAllListeners("data");
    this.call?.on("error", () => undefined);
  }
}
