import { Metadata, type ServerDuplexStream, type ServiceDefinition } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";
import { type WatchHub, WatchLimitError } from "../watch/index.js";
import { toServiceError } from "./errors.js";
import { LeaderMonitor } from "./leader-monitor.js";
import { strictDecoding } from "./strict-decoding.js";

/** What the Watch service needs from the member. */
export interface WatchDeps {
  hub: WatchHub;
  /** Refuses and cancels streams that ask for a leader while the member has none. */
  leader: LeaderMonitor;
}

/**
 * The Watch service definition with a pass-through response serializer: the hub encodes each
 * response itself (events once per batch, not once per watcher), so the stream carries bytes.
 */
export function watchServiceDefinition(): ServiceDefinition {
  const definition = strictDecoding(etcdserverpb.WatchService);
  return { watch: { ...definition.watch, responseSerialize: (bytes: Buffer) => bytes } };
}

/** The grpc-js call under a ServerDuplexStream: private in grpc-js's typings (grpc-js is pinned). */
interface InnerCall {
  sendMessage(message: Buffer, callback: () => void): void;
}

/**
 * How a session writes responses. grpc-js's stream is a Writable that hands HTTP/2 one message
 * at a time and waits for each to be flushed, so with grpc-go clients (which answer every DATA
 * frame with a WINDOW_UPDATE and a PING) each response of a stream costs a round trip: 100
 * watchers on a stream took 2 ms to get one event each. Sending through grpc-js's inner call
 * queues all of a fan-out's responses to HTTP/2 at once (one socket write, frames coalesced);
 * `done` still runs once HTTP/2 has taken each response, which is what back-pressure counts.
 * Every response of the stream goes this way, so their order is kept; the status at the end
 * still goes through the Writable, after them.
 */
function directWriter(
  call: ServerDuplexStream<etcdserverpb.WatchRequest, Buffer>,
): (bytes: Buffer, done: () => void) => void {
  const inner = (call as unknown as { call?: Partial<InnerCall> }).call;
  if (typeof inner?.sendMessage !== "function") return (bytes, done) => call.write(bytes, done);
  const send = inner.sendMessage.bind(inner);
  return (bytes, done) => send(bytes, done);
}

/**
 * etcd's Watch service: one {@link WatchSession} per stream. A stream with `hasleader: true`
 * metadata fails with `etcdserver: no leader` when the member has none (etcd's require-leader
 * interceptor). Closing the request side keeps the stream open, as in etcd; the client ends it
 * by cancelling.
 */
export function watchService(deps: WatchDeps) {
  return {
    watch(call: ServerDuplexStream<etcdserverpb.WatchRequest, Buffer>): void {
      const fail = (error: unknown) => {
        const serviceError =
          error instanceof WatchLimitError
            ? { code: error.code, details: error.message, metadata: new Metadata() }
            : toServiceError(error);
        call.emit("error", serviceError);
      };
      const requiresLeader = LeaderMonitor.requiresLeader(call.metadata);
      if (requiresLeader && !deps.leader.hasLeader()) {
        fail(new EtcdServerError("noLeader"));
        return;
      }
      let session: ReturnType<WatchHub["open"]>;
      try {
        session = deps.hub.open({
          write: directWriter(call),
          fail: (code, details) => call.emit("error", { code, details, metadata: new Metadata() }),
        });
      } catch (error) {
        fail(error);
        return;
      }
      const untrack = requiresLeader
        ? deps.leader.track(() => {
            session.close();
            fail(new EtcdServerError("noLeader"));
          })
        : () => undefined;
      const close = () => {
        untrack();
        session.close();
      };
      call.on("data", (request: etcdserverpb.WatchRequest) => session.handle(request));
      call.on("cancelled", close);
      call.on("error", close);
      call.on("close", close);
    },
  };
}
