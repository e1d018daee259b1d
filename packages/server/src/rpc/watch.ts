import { Metadata, type ServerDuplexStream, type ServiceDefinition } from "@grpc/grpc-js";
import { etcdserverpb } from "@keyway/api";
import { EtcdServerError } from "../errors.js";
import { type WatchHub, WatchLimitError } from "../watch/index.js";
import { toServiceError } from "./errors.js";
import { strictDecoding } from "./strict-decoding.js";

/** What the Watch service needs from the member. */
export interface WatchDeps {
  hub: WatchHub;
  /** Whether the member has a Raft leader now; one member always does. */
  hasLeader(): boolean;
}

/**
 * The Watch service definition with a pass-through response serializer: the hub encodes each
 * response itself (events once per batch, not once per watcher), so the stream carries bytes.
 */
export function watchServiceDefinition(): ServiceDefinition {
  const definition = strictDecoding(etcdserverpb.WatchService);
  return { watch: { ...definition.watch, responseSerialize: (bytes: Buffer) => bytes } };
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
      if (call.metadata.get("hasleader")[0] === "true" && !deps.hasLeader()) {
        fail(new EtcdServerError("noLeader"));
        return;
      }
      let session: ReturnType<WatchHub["open"]>;
      try {
        session = deps.hub.open({
          write: (bytes, done) => call.write(bytes, done),
          fail: (code, details) => call.emit("error", { code, details, metadata: new Metadata() }),
        });
      } catch (error) {
        fail(error);
        return;
      }
      call.on("data", (request: etcdserverpb.WatchRequest) => session.handle(request));
      call.on("cancelled", () => session.close());
      call.on("error", () => session.close());
      call.on("close", () => session.close());
    },
  };
}
