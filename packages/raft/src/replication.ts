/**
 * How a leader moves its log to the others: appends with flow control, snapshots for members that
 * fell behind the compacted log, heartbeats, and advancing the commit index.
 */
import type { RaftBase } from "./raft-base.js";
import type { Message, NodeId } from "./types.js";
import { EMPTY } from "./util.js";

/**
 * Sends `to` the entries it is missing, as far as flow control allows, or a snapshot when they are
 * compacted away. With `sendIfEmpty`, an empty MsgApp still goes out (it carries the commit index).
 * Returns whether a message was sent.
 */
export function maybeSendAppend(r: RaftBase, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.prs.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  const entries = r.log.entriesFrom(pr.next, r.cfg.maxMsgBytes);
  if (entries !== "compacted" && entries.length === 0 && !sendIfEmpty) return false;
  if (prevTerm === undefined || entries === "compacted") return sendSnapshot(r, to);
  r.send({ type: "MsgApp", to, index: prevIndex, logTerm: prevTerm, entries, commit: r.log.committed });
  const last = entries[entries.length - 1];
  if (last !== undefined) {
    if (pr.state === "replicate") {
      pr.optimisticUpdate(last.index);
      pr.inflights.add(last.index);
    } else if (pr.state === "probe") {
      pr.probeSent = true;
    }
  }
  return true;
}

function sendSnapshot(r: RaftBase, to: NodeId): boolean {
  const pr = r.prs.progress.get(to)!;
  if (!pr.recentActive) {
    r.logger.debug(`${r.id} ignore sending snapshot to ${to} since it is not recently active`);
    return false;
  }
  const snapshot = r.log.snapshot();
  const { index, term } = snapshot.metadata;
  r.logger.info(
    `${r.id} [firstindex: ${r.log.firstIndex()}, commit: ${r.log.committed}] sent snapshot[index: ${index}, term: ${term}] to ${to}`,
  );
  pr.becomeSnapshot(index);
  r.send({ type: "MsgSnap", to, snapshot });
  return true;
}

/**
 * Sends every other member what it is missing, as many messages as flow control allows (or one empty
 * append carrying the commit index).
 */
export function bcastAppend(r: RaftBase): void {
  r.broadcastPending = false;
  for (const id of r.prs.ids) {
    if (id === r.id || !maybeSendAppend(r, id, true)) continue;
    while (maybeSendAppend(r, id, false)) {}
  }
}

/**
 * Asks for a broadcast when the next Ready is assembled rather than now: every proposal and commit
 * advance between two Readys then travels in one MsgApp per follower (batching).
 */
export function scheduleBroadcast(r: RaftBase): void {
  r.broadcastPending = true;
}

/** Carries out a scheduled broadcast, if this node is still the leader. */
export function flushBroadcast(r: RaftBase): void {
  if (!r.broadcastPending) return;
  if (r.role === "leader") bcastAppend(r);
  r.broadcastPending = false;
}

/** Sends a heartbeat to every other member, carrying `context` (a pending ReadIndex) if given. */
export function bcastHeartbeat(r: RaftBase, context: Uint8Array | undefined): void {
  for (const id of r.prs.ids) {
    if (id === r.id) continue;
    const pr = r.prs.progress.get(id)!;
    // The follower may not hold our log past `match`, so it must not commit past it.
    const commit = Math.min(pr.match, r.log.committed);
    r.send({ type: "MsgHeartbeat", to: id, commit, ...(context === undefined ? {} : { context }) });
  }
}

/**
 * Advances the commit index to what a majority holds, if that entry is of the current term, and
 * then tells everyone and releases reads that waited for the first commit of the term.
 */
export function maybeCommit(r: RaftBase): boolean {
  if (!r.log.maybeCommit(r.prs.committed(), r.term)) return false;
  releasePendingReadIndexMessages(r);
  scheduleBroadcast(r);
  return true;
}

/** Starts the heartbeat round that confirms leadership for a ReadIndex request. */
export function startReadIndexRound(r: RaftBase, m: Message): void {
  const ctx = m.context ?? EMPTY;
  r.readOnly.add(r.log.committed, m, ctx);
  r.readOnly.recvAck(r.id, ctx);
  bcastHeartbeat(r, ctx);
}

function releasePendingReadIndexMessages(r: RaftBase): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const pending = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of pending) startReadIndexRound(r, m);
}
