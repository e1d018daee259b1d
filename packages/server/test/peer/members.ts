import type { Message } from "@keyway/raft";
import type { PeerLogger, PeerTransportLimits, PeerTransportOptions } from "../../src/peer/options.js";
import { PeerTransport } from "../../src/peer/transport.js";

/** A log line the transport wrote. */
export interface LogLine {
  readonly level: keyof PeerLogger;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A transport plus everything its callbacks reported, for assertions. */
export interface TestMember {
  readonly id: bigint;
  readonly transport: PeerTransport;
  readonly url: string;
  readonly received: Message[];
  readonly unreachable: bigint[];
  readonly snapshotStatus: { id: bigint; delivered: boolean }[];
  readonly logs: LogLine[];
}

/** Overrides of one member's options. */
export interface MemberOptions {
  readonly clusterId?: bigint;
  readonly listenUrl?: string;
  readonly peers?: ReadonlyMap<bigint, readonly string[]>;
  readonly limits?: Partial<PeerTransportLimits>;
  readonly onRequest?: PeerTransportOptions["onRequest"];
  readonly onMessage?: (message: Message) => void;
  readonly onMembersQuery?: PeerTransportOptions["onMembersQuery"];
}

/** Starts a transport on 127.0.0.1 (port 0 unless `listenUrl` says otherwise). */
export async function startMember(id: bigint, options: MemberOptions = {}): Promise<TestMember> {
  const received: Message[] = [];
  const unreachable: bigint[] = [];
  const snapshotStatus: { id: bigint; delivered: boolean }[] = [];
  const logs: LogLine[] = [];
  const log =
    (level: keyof PeerLogger) =>
    (fields: Record<string, unknown>, message: string): void => {
      logs.push({ level, fields, message });
    };
  const transport = await PeerTransport.start({
    self: id,
    clusterId: options.clusterId ?? 0xc1n,
    listenUrls: [options.listenUrl ?? "http://127.0.0.1:0"],
    peers: options.peers ?? new Map(),
    onMessage: (message) => {
      received.push(message);
      options.onMessage?.(message);
    },
    onUnreachable: (peer) => unreachable.push(peer),
    onSnapshotStatus: (peer, delivered) => snapshotStatus.push({ id: peer, delivered }),
    onRequest: options.onRequest ?? (async () => new Uint8Array(0)),
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    ...(options.limits !== undefined ? { limits: options.limits } : {}),
    ...(options.onMembersQuery !== undefined ? { onMembersQuery: options.onMembersQuery } : {}),
  });
  return { id, transport, url: transport.boundAddresses[0]!, received, unreachable, snapshotStatus, logs };
}

/** Tells every member about every other one. */
export function connectAll(members: readonly TestMember[]): void {
  for (const a of members) for (const b of members) if (a !== b) a.transport.addPeer(b.id, [b.url]);
}

/** Polls `condition` every 5 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Whether a log line at `level` contains `text` in its message or fields. */
export function logged(member: TestMember, level: keyof PeerLogger, text: string): boolean {
  return member.logs.some(
    (line) => line.level === level && `${line.message} ${JSON.stringify(line.fields)}`.includes(text),
  );
}
