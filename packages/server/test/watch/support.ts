import { etcdserverpb, type mvccpb } from "@keyway/api";
import type { StateMachine } from "../../src/apply/index.js";
import { type ResponseSink, WATCH_DEFAULTS, WatchHub, type WatchLimits } from "../../src/watch/index.js";

/**
 * A stream's far end for tests: decodes every response; while paused it keeps the transport's
 * completion callbacks, so the session sees its bytes pile up as with a client that stops reading.
 */
export class TestSink implements ResponseSink {
  readonly responses: etcdserverpb.WatchResponse[] = [];
  failure: { code: number; message: string } | undefined;
  private held: (() => void)[] = [];
  private paused = false;

  write(bytes: Buffer, done: () => void): void {
    this.responses.push(etcdserverpb.WatchResponse.decode(bytes));
    if (this.paused) this.held.push(done);
    else done();
  }

  fail(code: number, message: string): void {
    this.failure = { code, message };
  }

  pause(): void {
    this.paused = true;
  }

  /** Lets the transport take everything held, in order. */
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const done of held) done();
  }

  /** Every event received by watcher `id`, in order. */
  eventsOf(id: bigint): mvccpb.Event[] {
    return this.responses.filter((r) => r.watchId === id).flatMap((r) => r.events);
  }
}

/** A hub over a state machine, fed by its applied events, with test-sized limits. */
export function hubOver(sm: StateMachine, limits: Partial<WatchLimits> = {}): WatchHub {
  const hub = new WatchHub({
    history: sm,
    limits: { ...WATCH_DEFAULTS, fragmentBytes: 2 * 1024 * 1024, ...limits },
    header: (revision) =>
      etcdserverpb.ResponseHeader.fromPartial({ revision: BigInt(revision), clusterId: 7n }),
  });
  sm.onEvents((revision, events) => hub.publish(revision, events));
  return hub;
}

/** Lets pending fan-outs and catch-up steps (each one setImmediate) run. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A create request as fromPartial accepts it. */
export function create(
  fields: Parameters<typeof etcdserverpb.WatchCreateRequest.fromPartial>[0],
): etcdserverpb.WatchRequest {
  return {
    requestUnion: {
      $case: "createRequest",
      createRequest: etcdserverpb.WatchCreateRequest.fromPartial(fields),
    },
  };
}

/** A cancel request. */
export function cancel(watchId: bigint): etcdserverpb.WatchRequest {
  return { requestUnion: { $case: "cancelRequest", cancelRequest: { watchId } } };
}

/** A progress request. */
export const progress: etcdserverpb.WatchRequest = {
  requestUnion: { $case: "progressRequest", progressRequest: {} },
};

/** "PUT a@3" / "DELETE a@4": an event in a line. */
export const show = (event: mvccpb.Event): string =>
  `${event.type === 0 ? "PUT" : "DELETE"} ${event.kv?.key.toString("latin1")}@${event.kv?.modRevision}`;
