import type { ConfState, Entry, EntryType, Message, MessageType, Snapshot } from "@keyway/raft";
import { PeerProtocolError } from "./errors.js";
import { WireReader, WireWriter } from "./wire.js";

/**
 * Binary codec for `@keyway/raft`'s {@link Message}, little-endian:
 *
 * ```
 * u8 type, u8 flags (1 reject, 2 snapshot, 4 context), u64 to, u64 from,
 * uint term, logTerm, index, commit, rejectHint (8 bytes each, safe integers),
 * u32 entry count, per entry: uint term, uint index, u8 type, u32 length + data,
 * [snapshot: uint index, uint term, u32 n + n×u64 voters, u32 n + n×u64 learners, u32 length + data],
 * [context: u32 length + bytes]
 * ```
 *
 */

/** Every message type, by its wire code (the index): append new types, never reorder. */
export const MESSAGE_TYPES: readonly MessageType[] = [
  "MsgHup",
  "MsgBeat",
  "MsgProp",
  "MsgApp",
  "MsgAppResp",
  "MsgVote",
  "MsgVoteResp",
  "MsgPreVote",
  "MsgPreVoteResp",
  "MsgSnap",
  "MsgHeartbeat",
  "MsgHeartbeatResp",
  "MsgUnreachable",
  "MsgSnapStatus",
  "MsgCheckQuorum",
  "MsgTransferLeader",
  "MsgTimeoutNow",
  "MsgReadIndex",
  "MsgReadIndexResp",
];
const TYPE_CODES = new Map(MESSAGE_TYPES.map((type, code) => [type, code]));
const ENTRY_TYPES: readonly EntryType[] = ["normal", "confChange"];

const FLAG_REJECT = 1;
const FLAG_SNAPSHOT = 2;
const FLAG_CONTEXT = 4;
const KNOWN_FLAGS = FLAG_REJECT | FLAG_SNAPSHOT | FLAG_CONTEXT;

/** type, flags, to, from, five uints, entry count. */
const MESSAGE_FIXED_BYTES = 1 + 1 + 8 + 8 + 5 * 8 + 4;
/** term, index, type, data length. */
const ENTRY_FIXED_BYTES = 8 + 8 + 1 + 4;
/** index, term, two id counts, data length. */
const SNAPSHOT_FIXED_BYTES = 8 + 8 + 4 + 4 + 4;

/** The exact number of bytes {@link writeMessage} writes for `message`. */
export function encodedMessageSize(message: Message): number {
  let size = MESSAGE_FIXED_BYTES;
  for (const entry of message.entries) size += ENTRY_FIXED_BYTES + entry.data.length;
  const snapshot = message.snapshot;
  if (snapshot !== undefined) {
    const { voters, learners } = snapshot.metadata.confState;
    size += SNAPSHOT_FIXED_BYTES + 8 * (voters.length + learners.length) + snapshot.data.length;
  }
  if (message.context !== undefined) size += 4 + message.context.length;
  return size;
}

/**
 * Writes `message` at the writer's offset; the buffer must have {@link encodedMessageSize} bytes
 * free. Throws RangeError for a value the wire cannot carry (a negative or unsafe integer, an
 * unknown type): that is a bug in the caller, not an operating condition.
 */
export function writeMessage(writer: WireWriter, message: Message): void {
  const code = TYPE_CODES.get(message.type);
  if (code === undefined) throw new RangeError(`peer codec: unknown message type ${String(message.type)}`);
  writer.u8(code);
  writer.u8(
    (message.reject ? FLAG_REJECT : 0) |
      (message.snapshot !== undefined ? FLAG_SNAPSHOT : 0) |
      (message.context !== undefined ? FLAG_CONTEXT : 0),
  );
  writer.u64(message.to);
  writer.u64(message.from);
  writer.uint(message.term);
  writer.uint(message.logTerm);
  writer.uint(message.index);
  writer.uint(message.commit);
  writer.uint(message.rejectHint);
  writer.u32(message.entries.length);
  for (const entry of message.entries) {
    writer.uint(entry.term);
    writer.uint(entry.index);
    writer.u8(entry.type === "normal" ? 0 : 1);
    writer.bytes(entry.data);
  }
  if (message.snapshot !== undefined) writeSnapshot(writer, message.snapshot);
  if (message.context !== undefined) writer.bytes(message.context);
}

function writeSnapshot(writer: WireWriter, snapshot: Snapshot): void {
  writer.uint(snapshot.metadata.index);
  writer.uint(snapshot.metadata.term);
  for (const ids of [snapshot.metadata.confState.voters, snapshot.metadata.confState.learners]) {
    writer.u32(ids.length);
    for (const id of ids) writer.u64(id);
  }
  writer.bytes(snapshot.data);
}

/** One message as its own buffer (one allocation; entry data copied once). */
export function encodeMessage(message: Message): Buffer {
  const writer = new WireWriter(Buffer.allocUnsafe(encodedMessageSize(message)));
  writeMessage(writer, message);
  return writer.buffer;
}

/**
 * Reads one message at the reader's offset. Every length and count is checked against the input
 * before anything is allocated; malformed input throws {@link PeerProtocolError}. Byte fields are
 * copies, so the decoded message does not pin the input buffer.
 */
export function readMessage(reader: WireReader): Message {
  const code = reader.u8("message type");
  const type = MESSAGE_TYPES[code];
  if (type === undefined) throw new PeerProtocolError(`unknown message type code ${code}`);
  const flags = reader.u8("message flags");
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new PeerProtocolError(`unknown message flags ${flags}`);
  const to = reader.u64("to");
  const from = reader.u64("from");
  const term = reader.uint("term");
  const logTerm = reader.uint("logTerm");
  const index = reader.uint("index");
  const commit = reader.uint("commit");
  const rejectHint = reader.uint("rejectHint");
  const entryCount = reader.count("entries", ENTRY_FIXED_BYTES);
  const entries: Entry[] = [];
  for (let i = 0; i < entryCount; i++) entries.push(readEntry(reader));
  const base = { type, to, from, term, logTerm, index, entries, commit, reject: (flags & FLAG_REJECT) !== 0 };
  const snapshot = (flags & FLAG_SNAPSHOT) !== 0 ? readSnapshot(reader) : undefined;
  const context = (flags & FLAG_CONTEXT) !== 0 ? reader.bytes("context") : undefined;
  return {
    ...base,
    ...(snapshot !== undefined ? { snapshot } : {}),
    rejectHint,
    ...(context !== undefined ? { context } : {}),
  };
}

function readEntry(reader: WireReader): Entry {
  const term = reader.uint("entry term");
  const index = reader.uint("entry index");
  const typeCode = reader.u8("entry type");
  const type = ENTRY_TYPES[typeCode];
  if (type === undefined) throw new PeerProtocolError(`unknown entry type code ${typeCode}`);
  return { term, index, type, data: reader.bytes("entry data") };
}

function readSnapshot(reader: WireReader): Snapshot {
  const index = reader.uint("snapshot index");
  const term = reader.uint("snapshot term");
  const readIds = (what: string): bigint[] => {
    const count = reader.count(what, 8);
    const ids: bigint[] = [];
    for (let i = 0; i < count; i++) ids.push(reader.u64(what));
    return ids;
  };
  const confState: ConfState = { voters: readIds("voters"), learners: readIds("learners") };
  const data = reader.bytes("snapshot data");
  return { data, metadata: { index, term, confState } };
}

/** Decodes exactly one message; trailing bytes are malformed input. */
export function decodeMessage(input: Uint8Array): Message {
  const reader = new WireReader(input);
  const message = readMessage(reader);
  if (reader.remaining !== 0)
    throw new PeerProtocolError(`${reader.remaining} trailing bytes after a message`);
  return message;
}

/** Decodes a batch: messages back to back up to the end of `input`. */
export function decodeMessages(input: Uint8Array): Message[] {
  const reader = new WireReader(input);
  const messages: Message[] = [];
  while (reader.remaining > 0) messages.push(readMessage(reader));
  return messages;
}
