import { PeerProtocolError } from "./errors.js";
import { encodeFrame, FRAME_HEADER_BYTES, FrameKind } from "./frame.js";
import { WireReader, WireWriter } from "./wire.js";

/** "KWPR": the first bytes of a Keyway peer connection's hello payload. */
const MAGIC = 0x4b57_5052;
/** The protocol version; a peer speaking another one is refused. */
export const PEER_PROTOCOL_VERSION = 1;
const HELLO_BYTES = 4 + 1 + 1 + 8 + 8 + 8;

/**
 * What a connection carries: the message stream (plus requests, keepalives), one snapshot, or
 * one members query of a joining member (which knows neither its id nor the cluster's yet).
 */
export type ConnectionPurpose = "stream" | "snapshot" | "join";

/** Wire values of the purposes: append, never renumber. */
const PURPOSES: readonly ConnectionPurpose[] = ["stream", "snapshot", "join"];

/** The hello frame's content. */
export interface Hello {
  readonly purpose: ConnectionPurpose;
  readonly clusterId: bigint;
  readonly from: bigint;
  readonly to: bigint;
}

/** The hello frame a connecting member sends first. */
export function encodeHello(hello: Hello): Buffer {
  const writer = new WireWriter(Buffer.allocUnsafe(HELLO_BYTES));
  writer.u32(MAGIC);
  writer.u8(PEER_PROTOCOL_VERSION);
  writer.u8(PURPOSES.indexOf(hello.purpose));
  writer.u64(hello.clusterId);
  writer.u64(hello.from);
  writer.u64(hello.to);
  return encodeFrame(FrameKind.hello, writer.buffer);
}

/**
 * Who opened a connection, read from its first bytes as a proxy in between sees them (the fault
 * harness's peer proxy): the hello's sender, `"incomplete"` while fewer bytes than a hello frame
 * have arrived, or undefined when the bytes are not a Keyway peer connection.
 */
export function helloSender(head: Uint8Array): bigint | "incomplete" | undefined {
  const frameBytes = FRAME_HEADER_BYTES + HELLO_BYTES;
  const prefix = Buffer.from(head.subarray(0, Math.min(head.length, frameBytes)));
  // Frame header, magic and version are the same in every hello.
  const expected = encodeHello({ purpose: "stream", clusterId: 0n, from: 0n, to: 0n }).subarray(
    0,
    FRAME_HEADER_BYTES + 5,
  );
  const known = Math.min(prefix.length, expected.length);
  if (!prefix.subarray(0, known).equals(expected.subarray(0, known))) return undefined;
  if (prefix.length < frameBytes) return "incomplete";
  try {
    return decodeHello(prefix.subarray(FRAME_HEADER_BYTES)).from;
  } catch {
    return undefined;
  }
}

/** Parses a hello payload; throws {@link PeerProtocolError} for anything that is not one. */
export function decodeHello(payload: Uint8Array): Hello {
  const reader = new WireReader(payload);
  if (reader.u32("magic") !== MAGIC) throw new PeerProtocolError("not a Keyway peer connection (bad magic)");
  const version = reader.u8("version");
  if (version !== PEER_PROTOCOL_VERSION) {
    throw new PeerProtocolError(`peer protocol version ${version}, expected ${PEER_PROTOCOL_VERSION}`);
  }
  const purposeCode = reader.u8("purpose");
  const purpose = PURPOSES[purposeCode];
  if (purpose === undefined) throw new PeerProtocolError(`unknown connection purpose ${purposeCode}`);
  const hello: Hello = {
    purpose,
    clusterId: reader.u64("cluster id"),
    from: reader.u64("from"),
    to: reader.u64("to"),
  };
  if (reader.remaining !== 0) throw new PeerProtocolError("trailing bytes after the hello");
  return hello;
}

/**
 * Why a hello must be refused by member `self` of cluster `clusterId`, or undefined if it is
 * acceptable. Ids are printed in hex, as etcd prints member ids.
 */
export function helloRefusal(hello: Hello, self: bigint, clusterId: bigint): string | undefined {
  // A joining member asks before it has ids: zeros, and only for this purpose.
  if (hello.purpose === "join") {
    return hello.clusterId === 0n && hello.to === 0n && hello.from === 0n
      ? undefined
      : "a members query carries no ids";
  }
  if (hello.clusterId !== clusterId) {
    return `cluster id mismatch: peer ${hex(hello.from)} is in cluster ${hex(hello.clusterId)}, this member in ${hex(clusterId)}`;
  }
  if (hello.to !== self)
    return `peer ${hex(hello.from)} dialed member ${hex(hello.to)}, this is ${hex(self)}`;
  if (hello.from === self || hello.from === 0n) return `peer claims the invalid id ${hex(hello.from)}`;
  return undefined;
}

/** A member id as etcd prints it. */
export function hex(id: bigint): string {
  return id.toString(16);
}
