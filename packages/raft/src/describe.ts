/**
 * One-line, stable text forms of entries, messages, snapshots and Readys: used by the interaction
 * tests' expected output and handy in debug logs.
 */
import { decodeConfChange } from "./conf-change.js";
import type { ConfState, Entry, HardState, Message, Ready, Snapshot, SoftState } from "./types.js";

const ROLE_NAMES = {
  follower: "StateFollower",
  preCandidate: "StatePreCandidate",
  candidate: "StateCandidate",
  leader: "StateLeader",
} as const;

const CONF_CHANGE_NAMES = {
  addNode: "add-node",
  addLearner: "add-learner",
  removeNode: "remove-node",
} as const;

/** Bytes as a quoted string when printable, else as hex. */
export function describeBytes(data: Uint8Array): string {
  const printable = data.every((b) => b >= 0x20 && b < 0x7f && b !== 0x22);
  if (printable) return `"${String.fromCharCode(...data)}"`;
  return `0x${[...data].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** `term/index EntryNormal "data"` or `term/index EntryConfChange add-node 4`. */
export function describeEntry(e: Entry): string {
  if (e.type === "confChange") {
    const cc = decodeConfChange(e.data);
    return `${e.term}/${e.index} EntryConfChange ${CONF_CHANGE_NAMES[cc.type]} ${cc.nodeId}`;
  }
  return `${e.term}/${e.index} EntryNormal ${describeBytes(e.data)}`;
}

/** `Voters:[1 2 3] Learners:[4]`. */
export function describeConfState(cs: ConfState): string {
  const learners = cs.learners.length > 0 ? ` Learners:[${cs.learners.join(" ")}]` : "";
  return `Voters:[${cs.voters.join(" ")}]${learners}`;
}

/** `Index:i Term:t ConfState:...` of a snapshot's metadata. */
export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)}`;
}

/** `Term:t Vote:v Commit:c`. */
export function describeHardState(hs: HardState): string {
  return `Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit}`;
}

/** `Lead:l State:StateLeader`. */
export function describeSoftState(ss: SoftState): string {
  return `Lead:${ss.lead} State:${ROLE_NAMES[ss.role]}`;
}

/** `from->to Type Term:t ...` with only the fields that matter for the type. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) s += ` Entries:[${m.entries.map(describeEntry).join(", ")}]`;
  if (m.snapshot !== undefined) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  if (m.context !== undefined && m.context.byteLength > 0) s += ` Context:${describeBytes(m.context)}`;
  return s;
}

/** A multi-line description of a Ready, one item per line. */
export function describeReady(rd: Ready): string[] {
  const lines = [`Ready MustSync=${rd.mustSync}:`];
  if (rd.softState !== undefined) lines.push(describeSoftState(rd.softState));
  if (rd.hardState !== undefined) lines.push(`HardState ${describeHardState(rd.hardState)}`);
  if (rd.readStates.length > 0) {
    lines.push(
      `ReadStates:${rd.readStates.map((r) => ` {Index:${r.index} Ctx:${describeBytes(r.requestCtx)}}`).join("")}`,
    );
  }
  if (rd.entries.length > 0) lines.push("Entries:", ...rd.entries.map(describeEntry));
  if (rd.snapshot !== undefined) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  if (rd.committedEntries.length > 0)
    lines.push("CommittedEntries:", ...rd.committedEntries.map(describeEntry));
  if (rd.messages.length > 0) lines.push("Messages:", ...rd.messages.map(describeMessage));
  return lines;
}
