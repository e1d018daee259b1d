import {
  type Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type ServiceError,
  type status,
} from "@grpc/grpc-js";

/** The test service's one message both ways: who answered. */
export interface Reply {
  id: string;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const parse = (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown;

/** `test.Echo/Who`: a unary call answered with the server's id (JSON on the wire, no codegen). */
export const echoService: ServiceDefinition = {
  who: {
    path: "/test.Echo/Who",
    requestStream: false,
    responseStream: false,
    requestSerialize: json,
    requestDeserialize: parse,
    responseSerialize: json,
    responseDeserialize: parse,
  },
};

/** A client of {@link echoService}. */
export const EchoClient = makeGenericClientConstructor(echoService, "Echo");

/** One call; resolves with the id of the server that answered. */
export function who(
  client: Client,
  options: { waitForReady?: boolean; deadlineMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    // grpc-js takes wait-for-ready from the metadata's options, not from the call options.
    const metadata = new Metadata({ waitForReady: options.waitForReady ?? false });
    const callOptions = { deadline: Date.now() + (options.deadlineMs ?? 5_000) };
    const call = (client as unknown as { who: (...args: unknown[]) => void }).who.bind(client);
    call({}, metadata, callOptions, (err: ServiceError | null, reply: Reply) =>
      err === null ? resolve(reply.id) : reject(err),
    );
  });
}

/** A new insecure client of `target` (e.g. `keyway:///svc`). */
export function echoClient(target: string, options: Record<string, unknown> = {}): Client {
  return new EchoClient(target, credentials.createInsecure(), options);
}

/** A running echo server on loopback. */
export interface EchoServer {
  readonly id: string;
  readonly port: number;
  /** Calls served so far. */
  calls: number;
  /** Each call waits this long before answering. */
  delayMs: number;
  /** When set, calls fail with this status code. */
  failWith: status | undefined;
  close(): Promise<void>;
}

/** Starts an echo server on 127.0.0.1 (port picked by the OS) answering with `id`. */
export async function startEchoServer(id: string): Promise<EchoServer> {
  const server = new Server();
  const state: EchoServer = {
    id,
    port: 0,
    calls: 0,
    delayMs: 0,
    failWith: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
  server.addService(echoService, {
    who: (_call: unknown, callback: (err: Partial<ServiceError> | null, reply?: Reply) => void) => {
      state.calls++;
      const answer = () =>
        state.failWith === undefined
          ? callback(null, { id })
          : callback({ code: state.failWith, details: `${id} fails on purpose` });
      if (state.delayMs > 0) setTimeout(answer, state.delayMs);
      else answer();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, bound) =>
      err === null ? resolve(bound) : reject(err),
    ),
  );
  return Object.assign(state, { port });
}
