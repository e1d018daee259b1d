import { credentials, Metadata } from "@grpc/grpc-js";
import { etcdserverpb, mvccpb } from "@keyway/api";
import type { KeyValue, WatchEventRecord, WatchRecord, WatchResponseRecord } from "../history/types.js";

/** Options of one recorded watch. */
export interface RecordedWatchOptions {
  readonly endpoints: readonly string[];
  readonly client: number;
  readonly key: string;
  readonly rangeEnd: string;
  readonly startRevision: bigint;
  /** Where each (re)created watch's record goes. */
  readonly records: WatchRecord[];
}

/**
 * HTTP/2 pings every 5 s (etcd refuses more frequent ones) with a 3 s deadline, so a stream to a
 * paused or partitioned member breaks and moves on instead of hanging; no receive limit, since a
 * catch-up after a partition can exceed grpc-js's 4 MB default.
 */
const CHANNEL_OPTIONS = {
  "grpc.keepalive_time_ms": 5_000,
  "grpc.keepalive_timeout_ms": 3_000,
  "grpc.max_receive_message_length": -1,
};

/** Pause between a broken stream and its re-creation. */
const RESUME_DELAY_MS = 100;
/** How long {@link RecordedWatch.stop} asks for a progress notification before giving up. */
const FINAL_PROGRESS_MS = 3_000;

/**
 * A watch over the raw gRPC Watch stream (not the client's watcher, which hides responses), so
 * every WatchResponse is recorded as it came: its header revision and the grouping of its events
 * (the atomicity rule needs it). It resumes by itself across broken streams, endpoint by endpoint,
 * from the last delivered event's mod revision + 1 (or past a progress notification); each
 * (re)creation is its own WatchRecord. Streams carry `hasleader` so a member cut off from its
 * leader ends them. Plain-text endpoints only.
 */
export class RecordedWatch {
  private nextRevision: bigint;
  private stopped = false;
  private attempt = 0;
  private current: { record: WatchRecord & { responses: WatchResponseRecord[] }; stream: Stream } | undefined;
  private readonly done: Promise<void>;
  private progressWaiter: (() => void) | undefined;

  constructor(private readonly options: RecordedWatchOptions) {
    this.nextRevision = options.startRevision;
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const endpoint = this.options.endpoints[this.attempt++ % this.options.endpoints.length] ?? "";
      const canceled = await this.runOnce(endpoint);
      if (canceled) return;
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, RESUME_DELAY_MS));
    }
  }

  /** One stream, until it breaks or is stopped; true when the server canceled the watch. */
  private runOnce(endpoint: string): Promise<boolean> {
    const address = endpoint.replace(/^https?:\/\//, "");
    const client = new etcdserverpb.WatchClient(address, credentials.createInsecure(), CHANNEL_OPTIONS);
    const metadata = new Metadata();
    metadata.set("hasleader", "true");
    const stream = client.watch(metadata);
    const record = {
      client: this.options.client,
      key: this.options.key,
      rangeEnd: this.options.rangeEnd,
      startRevision: this.nextRevision,
      prevKv: true,
      responses: [] as WatchResponseRecord[],
    };
    this.options.records.push(record);
    this.current = { record, stream };
    return new Promise((resolve) => {
      let canceled = false;
      stream.on("data", (response: etcdserverpb.WatchResponse) => {
        const recorded = toRecord(response);
        record.responses.push(recorded);
        const last = response.events.at(-1);
        if (last?.kv !== undefined) this.nextRevision = last.kv.modRevision + 1n;
        if (recorded.progressNotify === true) {
          if (recorded.revision + 1n > this.nextRevision) this.nextRevision = recorded.revision + 1n;
          this.progressWaiter?.();
        }
        if (response.canceled) {
          canceled = true;
          stream.cancel();
        }
      });
      const finish = () => {
        client.close();
        resolve(canceled);
      };
      stream.on("error", finish);
      stream.on("end", finish);
      stream.write({
        requestUnion: {
          $case: "createRequest",
          createRequest: {
            key: Buffer.from(this.options.key),
            rangeEnd: Buffer.from(this.options.rangeEnd),
            startRevision: record.startRevision,
            progressNotify: false,
            filters: [],
            prevKv: true,
            watchId: 0n,
            fragment: false,
          },
        },
      });
    });
  }

  /**
   * Asks for progress until a notification arrives (etcd answers only once the watch caught up),
   * so the record vouches for every event up to the store's revision; then ends the watch.
   */
  async stop(): Promise<void> {
    const deadline = Date.now() + FINAL_PROGRESS_MS;
    while (Date.now() < deadline && this.current !== undefined) {
      const got = new Promise<boolean>((resolve) => {
        this.progressWaiter = () => resolve(true);
        setTimeout(() => resolve(false), 200);
      });
      try {
        this.current.stream.write({ requestUnion: { $case: "progressRequest", progressRequest: {} } });
      } catch {
        // The stream broke meanwhile; the loop re-creates it and the next round asks again.
      }
      if (await got) break;
    }
    this.progressWaiter = undefined;
    this.stopped = true;
    this.current?.stream.cancel();
    await this.done;
  }
}

type Stream = ReturnType<etcdserverpb.WatchClient["watch"]>;

function toRecord(response: etcdserverpb.WatchResponse): WatchResponseRecord {
  const revision = response.header?.revision ?? 0n;
  const events = response.events.flatMap((event): WatchEventRecord[] => {
    if (event.kv === undefined) return [];
    const type = event.type === mvccpb.Event_EventType.DELETE ? "delete" : "put";
    const prevKv = event.prevKv === undefined ? {} : { prevKv: kvOf(event.prevKv) };
    return [{ type, kv: kvOf(event.kv), ...prevKv }];
  });
  const progressNotify = events.length === 0 && !response.created && !response.canceled && revision !== 0n;
  return {
    receivedNs: process.hrtime.bigint(),
    revision,
    events,
    ...(response.compactRevision !== 0n ? { compactRevision: response.compactRevision } : {}),
    ...(response.canceled ? { canceled: true } : {}),
    ...(progressNotify ? { progressNotify: true } : {}),
    ...(response.created ? { created: true } : {}),
  };
}

function kvOf(kv: mvccpb.KeyValue): KeyValue {
  return {
    key: kv.key.toString("utf8"),
    value: kv.value.toString("utf8"),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}
