import type { ConfChange } from "@keyway/raft";
import type { Member, MemberChange } from "./membership.js";

/** What a membership change entry carries beside Raft's own fields (etcd's ConfChange.Context). */
export interface ConfChangeContext {
  /** The proposal's id, so the member that proposed it can answer its caller. */
  requestId: bigint;
  change: MemberChange;
}

interface StoredMember {
  id: string;
  name: string;
  peerUrls: readonly string[];
  clientUrls: readonly string[];
  isLearner: boolean;
}

type StoredChange =
  | { type: "add"; member: StoredMember }
  | { type: "remove"; id: string }
  | { type: "promote"; id: string }
  | { type: "update"; id: string; peerUrls: readonly string[] };

/** The Raft change a member-table change makes (an update changes no voter or learner). */
export function raftConfChange(change: MemberChange, context: Uint8Array): ConfChange {
  switch (change.type) {
    case "add":
      return {
        type: change.member.isLearner ? "addLearner" : "addNode",
        nodeId: change.member.id,
        context,
      };
    case "remove":
      return { type: "removeNode", nodeId: change.id, context };
    // Raft's addNode of a learner promotes it; of a voter (an update) it changes nothing.
    case "promote":
    case "update":
      return { type: "addNode", nodeId: change.id, context };
  }
}

/** JSON, ids as decimal strings (JSON has no uint64). */
export function encodeConfChangeContext(context: ConfChangeContext): Uint8Array {
  const { change } = context;
  const stored: StoredChange =
    change.type === "add"
      ? { type: "add", member: { ...change.member, id: change.member.id.toString() } }
      : { ...change, id: change.id.toString() };
  return Buffer.from(JSON.stringify({ requestId: context.requestId.toString(), change: stored }));
}

/** Reads what {@link encodeConfChangeContext} wrote; a malformed context is corruption (throws). */
export function decodeConfChangeContext(bytes: Uint8Array): ConfChangeContext {
  const parsed = JSON.parse(Buffer.from(bytes).toString("utf8")) as {
    requestId: string;
    change: StoredChange;
  };
  const stored = parsed.change;
  let change: MemberChange;
  if (stored.type === "add") {
    const member: Member = { ...stored.member, id: BigInt(stored.member.id) };
    change = { type: "add", member };
  } else {
    change = { ...stored, id: BigInt(stored.id) };
  }
  return { requestId: BigInt(parsed.requestId), change };
}
