import { connect } from "node:net";
import type { Member } from "../cluster/membership.js";
import { PeerProtocolError } from "./errors.js";
import { encodeFrame, FrameKind, FrameReader } from "./frame.js";
import { encodeHello } from "./handshake.js";
import { parsePeerUrl } from "./peer-url.js";
import { WireReader, WireWriter } from "./wire.js";

/** What a member answers a members query with: its cluster and the member table it applied. */
export interface MembersAnswer {
  readonly clusterId: bigint;
  readonly members: readonly Member[];
}

/** Bounds of an answer a joining member accepts (a member table is small). */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const MAX_MEMBERS = 1024;
const MAX_URLS_PER_MEMBER = 1024;

/** The answer frame: u64 cluster id, u32 count, then per member id, name, peer and client URLs, learner. */
export function encodeMembersAnswer(answer: MembersAnswer): Buffer {
  const strings = (list: readonly string[]) => list.map((text) => Buffer.from(text, "utf8"));
  const encoded = answer.members.map((member) => ({
    member,
    name: Buffer.from(member.name, "utf8"),
    peerUrls: strings(member.peerUrls),
    clientUrls: strings(member.clientUrls),
  }));
  const listBytes = (list: Buffer[]) => 4 + list.reduce((sum, item) => sum + 4 + item.length, 0);
  const size = encoded.reduce(
    (sum, m) => sum + 8 + 4 + m.name.length + listBytes(m.peerUrls) + listBytes(m.clientUrls) + 1,
    8 + 4,
  );
  const writer = new WireWriter(Buffer.allocUnsafe(size));
  writer.u64(answer.clusterId);
  writer.u32(encoded.length);
  for (const { member, name, peerUrls, clientUrls } of encoded) {
    writer.u64(member.id);
    writer.bytes(name);
    for (const list of [peerUrls, clientUrls]) {
      writer.u32(list.length);
      for (const url of list) writer.bytes(url);
    }
    writer.u8(member.isLearner ? 1 : 0);
  }
  return encodeFrame(FrameKind.members, writer.buffer);
}

/** Parses an answer payload; throws {@link PeerProtocolError} when malformed or beyond the bounds. */
export function decodeMembersAnswer(payload: Uint8Array): MembersAnswer {
  const reader = new WireReader(payload);
  const text = (what: string) => Buffer.from(reader.bytes(what)).toString("utf8");
  const list = (what: string) => {
    const count = reader.count(what, 4);
    if (count > MAX_URLS_PER_MEMBER) throw new PeerProtocolError(`${count} ${what} in a member`);
    return Array.from({ length: count }, () => text(what));
  };
  const clusterId = reader.u64("cluster id");
  const count = reader.count("members", 8 + 4 + 4 + 4 + 1);
  if (count > MAX_MEMBERS) throw new PeerProtocolError(`${count} members in a members answer`);
  const members: Member[] = [];
  for (let i = 0; i < count; i++) {
    const id = reader.u64("member id");
    const name = text("member name");
    const peerUrls = list("peer URLs");
    const clientUrls = list("client URLs");
    members.push({ id, name, peerUrls, clientUrls, isLearner: reader.u8("learner flag") === 1 });
  }
  if (reader.remaining !== 0) throw new PeerProtocolError("trailing bytes after the members answer");
  return { clusterId, members };
}

/**
 * Asks the members at `peerUrls`, one after the other, for the cluster id and member table (a
 * joining member's first step, as etcd's GetClusterFromRemotePeers). Each URL gets `timeoutMs`;
 * rejects with the last failure when none answers.
 */
export async function queryMembers(peerUrls: readonly string[], timeoutMs: number): Promise<MembersAnswer> {
  let lastError: unknown = new Error("no peer URLs to query");
  for (const url of peerUrls) {
    try {
      return await queryOne(url, timeoutMs);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function queryOne(url: string, timeoutMs: number): Promise<MembersAnswer> {
  const { host, port } = parsePeerUrl(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`members query to ${url} timed out`)), timeoutMs);
    const reader = new FrameReader(MAX_ANSWER_BYTES);
    socket.on("connect", () =>
      socket.write(encodeHello({ purpose: "join", clusterId: 0n, from: 0n, to: 0n })),
    );
    socket.on("data", (chunk: Buffer) => {
      try {
        const frame = reader.push(chunk)[0];
        if (frame === undefined) return;
        clearTimeout(timer);
        if (frame.kind === FrameKind.members) {
          socket.destroy();
          resolve(decodeMembersAnswer(frame.payload));
        } else if (frame.kind === FrameKind.refuse) {
          fail(new Error(`${url} refused the members query: ${frame.payload.toString("utf8")}`));
        } else {
          fail(new PeerProtocolError(`unexpected frame kind ${frame.kind} answering a members query`));
        }
      } catch (error) {
        clearTimeout(timer);
        fail(error as Error);
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      fail(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      reject(new Error(`${url} closed the members query without an answer`));
    });
  });
}
