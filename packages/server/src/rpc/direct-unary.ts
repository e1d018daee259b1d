import { constants, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import {
  type handleUnaryCall,
  type Server,
  type ServiceDefinition,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { type Encodable, encodeGrpcFrame, GRPC_FRAME_HEADER_BYTES } from "@keyway/api";
import type { ResponseTypes } from "./shared-writer.js";

/**
 * Unary calls served straight on the HTTP/2 sessions grpc-js accepted, without grpc-js's per-call
 * machinery (interceptor chain, metadata objects, a socket write and a turn between message and
 * trailers). That machinery was most of a member's CPU per call: with it out, puts with 1000
 * clients went 1.21× faster and linearizable reads 1.25× (docs/benchmarks.md).
 *
 * Only calls that grpc-js would serve the same way take this path: POST, a gRPC content type, no
 * compression, a valid `grpc-timeout` or none; everything else (and every streaming method) goes
 * to grpc-js untouched. The answers are grpc-js's, byte for byte where a client could tell: its
 * response headers and trailers, and its status and text for a deadline, an oversized message, a
 * request that does not decode, a call with no message or two. Handlers get a call that holds
 * only `request`: the methods registered here must not read anything else from it.
 *
 * grpc-js has no public hook for this: {@link DirectUnary.attach} takes the HTTP/2 server from
 * its private map (grpc-js is pinned to one version; the test suite catches a change), and
 * refuses to attach when it is not there.
 */
export class DirectUnary {
  private readonly methods = new Map<string, DirectMethod>();

  constructor(private readonly maxReceiveBytes: number) {}

  /**
   * Serves the unary methods of `definition` with the handlers of `implementation`; each answer
   * is encoded as its type in `responses`, framed in the same copy (`encodeGrpcFrame`).
   */
  add<T extends ServiceDefinition>(definition: T, implementation: object, responses: ResponseTypes<T>): void {
    for (const [name, method] of Object.entries(definition)) {
      const handler = (implementation as Record<string, AnyUnaryHandler | undefined>)[name];
      if (method.requestStream || method.responseStream || handler === undefined) continue;
      const type = responses[name as keyof T] as Encodable<unknown>;
      this.methods.set(method.path, {
        path: method.path,
        deserialize: (bytes) => method.requestDeserialize(bytes),
        frame: (value) => encodeGrpcFrame(type, value),
        handler,
      });
    }
  }

  /**
   * Puts this path in front of the HTTP/2 server grpc-js created for its latest connection
   * injector. Returns false, and changes nothing, when that server cannot be found.
   */
  attach(grpc: Server): boolean {
    const servers = (grpc as unknown as { http2Servers?: unknown }).http2Servers;
    if (!(servers instanceof Map)) return false;
    const http2 = [...servers.keys()].at(-1) as Http2Server | undefined;
    const grpcListeners = http2?.listeners("stream") as Array<(...args: unknown[]) => void> | undefined;
    if (http2 === undefined || grpcListeners === undefined || grpcListeners.length !== 1) return false;
    http2.removeAllListeners("stream");
    http2.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ...rest: unknown[]) => {
      const method = this.methods.get(headers[constants.HTTP2_HEADER_PATH] as string);
      const timeoutMs = method === undefined ? undefined : plainUnaryCall(headers);
      if (method === undefined || timeoutMs === undefined) {
        for (const listener of grpcListeners) listener.call(http2, stream, headers, ...rest);
        return;
      }
      new DirectCall(stream, method, this.maxReceiveBytes, timeoutMs);
    });
    return true;
  }
}

type AnyUnaryHandler = handleUnaryCall<unknown, unknown>;

interface DirectMethod {
  path: string;
  deserialize(bytes: Buffer): unknown;
  /** The response as a gRPC frame. */
  frame(value: unknown): Buffer;
  handler: AnyUnaryHandler;
}

/** grpc-js's headers of a response with a message, and of its OK trailers. */
const RESPONSE_HEADERS = {
  [constants.HTTP2_HEADER_STATUS]: constants.HTTP_STATUS_OK,
  [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc+proto",
  "grpc-accept-encoding": "identity,deflate,gzip",
  "grpc-encoding": "identity",
};
const OK_TRAILERS = { "grpc-status": status.OK, "grpc-message": "OK" };
/** grpc-js's `grpc-timeout` parsing, and what each unit is in ms. */
const TIMEOUT = /(\d{1,8})\s*([HMSmun])/;
const TIMEOUT_UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};
/** Whether grpc-js includes why a request did not decode (its debug switch, read as it reads it). */
const SEND_ERROR_DETAILS = (process.env.GRPC_NODE_DEBUG_SEND_ERROR_DETAILS ?? "false") === "true";

/**
 * The call's timeout in ms (Infinity without one) when grpc-js would serve the call as this path
 * does; undefined when it should see the call itself (it then answers as it always has).
 */
function plainUnaryCall(headers: IncomingHttpHeaders): number | undefined {
  const contentType = headers[constants.HTTP2_HEADER_CONTENT_TYPE];
  if (headers[constants.HTTP2_HEADER_METHOD] !== "POST") return undefined;
  if (typeof contentType !== "string" || !contentType.startsWith("application/grpc")) return undefined;
  const encoding = headers["grpc-encoding"];
  if (encoding !== undefined && encoding !== "identity") return undefined;
  const timeout = headers["grpc-timeout"];
  if (timeout === undefined) return Number.POSITIVE_INFINITY;
  const match = typeof timeout === "string" ? TIMEOUT.exec(timeout) : null;
  if (match === null) return undefined;
  return (Number(match[1]) * (TIMEOUT_UNIT_MS[match[2] as string] as number)) | 0;
}

/** One unary call: reads its one message, runs the handler, answers once. */
class DirectCall {
  private received: Buffer[] = [];
  private receivedBytes = 0;
  /** Where each message whose header was read ends in the body. */
  private readonly messageEnds: number[] = [];
  private answered = false;
  private readonly deadline: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly method: DirectMethod,
    private readonly maxReceiveBytes: number,
    timeoutMs: number,
  ) {
    // As grpc-js: an error is always followed by close; there is nothing to answer on it.
    stream.once("error", () => undefined);
    if (Number.isFinite(timeoutMs)) {
      this.deadline = setTimeout(() => this.fail(status.DEADLINE_EXCEEDED, "Deadline exceeded"), timeoutMs);
      stream.once("close", () => clearTimeout(this.deadline));
    }
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.once("end", () => this.onEnd());
  }

  /**
   * Keeps the body, checking each message's declared length as soon as its header is in, as
   * grpc-js's decoder does. Once a second message is complete the call is answered (grpc-js
   * refuses it then), so a call never holds more than two messages of the maximum size.
   */
  private onData(chunk: Buffer): void {
    if (this.answered) return;
    this.received.push(chunk);
    this.receivedBytes += chunk.length;
    for (let at = this.messageEnds.at(-1) ?? 0; this.receivedBytes >= at + GRPC_FRAME_HEADER_BYTES; ) {
      const length = this.body().readUInt32BE(at + 1);
      if (length > this.maxReceiveBytes) {
        const details = `Received message larger than max (${length} vs ${this.maxReceiveBytes})`;
        this.fail(status.RESOURCE_EXHAUSTED, details);
        return;
      }
      at += GRPC_FRAME_HEADER_BYTES + length;
      this.messageEnds.push(at);
    }
    const second = this.messageEnds[1];
    if (second !== undefined && this.receivedBytes >= second) this.onEnd();
  }

  private body(): Buffer {
    if (this.received.length > 1) this.received = [Buffer.concat(this.received, this.receivedBytes)];
    return this.received[0] ?? Buffer.alloc(0);
  }

  private onEnd(): void {
    if (this.answered) return;
    const body = this.body();
    const first = completeFrame(body, 0);
    if (first === undefined) {
      this.fail(
        status.UNIMPLEMENTED,
        `Received no request message for server streaming method ${this.method.path}`,
      );
      return;
    }
    let request: unknown;
    try {
      // With identity encoding grpc-js reads a message flagged compressed as it is; so does this.
      request = this.method.deserialize(body.subarray(first.start, first.end));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.fail(
        status.INTERNAL,
        SEND_ERROR_DETAILS ? `Error deserializing request: ${why}` : "Error deserializing request",
      );
      return;
    }
    if (completeFrame(body, first.end) !== undefined) {
      this.fail(
        status.UNIMPLEMENTED,
        `Received a second request message for server streaming method ${this.method.path}`,
      );
      return;
    }
    this.received = [];
    this.method.handler(requestOnlyCall(request, this.method.path), (error, value) => {
      if (error) this.answerError(error);
      else this.answer(value);
    });
  }

  private answer(value: unknown): void {
    if (this.settle()) return;
    let frame: Buffer;
    try {
      frame = this.method.frame(value);
    } catch {
      this.trailersOnly(status.INTERNAL, "Error serializing response");
      return;
    }
    const { stream } = this;
    this.send(() => {
      stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
      stream.once("wantTrailers", () => this.send(() => stream.sendTrailers(OK_TRAILERS)));
      stream.end(frame);
    });
  }

  /** Writes to the stream; a stream that went away meanwhile is reset, never a crash. */
  private send(write: () => void): void {
    try {
      write();
    } catch {
      if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  /** grpc-js's serverErrorToStatus: a valid code keeps its details, anything else is UNKNOWN. */
  private answerError(error: Partial<ServiceError>): void {
    const valid = typeof error.code === "number" && Number.isInteger(error.code);
    const fallback = "message" in error ? error.message : "Unknown Error";
    const details = valid && typeof error.details === "string" ? error.details : fallback;
    this.fail(valid ? (error.code as number) : status.UNKNOWN, details);
  }

  private fail(code: number, details: string): void {
    if (this.settle()) return;
    this.trailersOnly(code, details);
  }

  /** Marks the call answered; true when it already was, or the stream is gone (a cancel). */
  private settle(): boolean {
    const done = this.answered || this.stream.destroyed || this.stream.closed;
    this.answered = true;
    this.received = [];
    clearTimeout(this.deadline);
    return done;
  }

  private trailersOnly(code: number, details: string): void {
    const headers = {
      "grpc-status": code,
      "grpc-message": encodeURI(details),
      [constants.HTTP2_HEADER_STATUS]: constants.HTTP_STATUS_OK,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc+proto",
    };
    this.send(() => this.stream.respond(headers, { endStream: true }));
  }
}

/**
 * The call a handler gets here: its request, and nothing else. Reading anything else throws, so a
 * handler that starts to need the call's metadata or peer fails loudly (the `unary` adapter turns
 * the throw into an UNKNOWN answer) instead of reading undefined.
 */
function requestOnlyCall(request: unknown, path: string): Parameters<AnyUnaryHandler>[0] {
  return new Proxy({ request } as Parameters<AnyUnaryHandler>[0], {
    get(target, key) {
      if (key === "request") return target.request;
      throw new Error(
        `${path} is served without grpc-js's call object; its handler may read only call.request, not call.${String(key)}`,
      );
    },
  });
}

/** The message of the complete frame at `at`, if one is there. */
function completeFrame(body: Buffer, at: number): { start: number; end: number } | undefined {
  if (at + GRPC_FRAME_HEADER_BYTES > body.length) return undefined;
  const start = at + GRPC_FRAME_HEADER_BYTES;
  const end = start + body.readUInt32BE(at + 1);
  return end <= body.length ? { start, end } : undefined;
}
