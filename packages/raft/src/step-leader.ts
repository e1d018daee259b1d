/**
 * Message handling of a leader: proposals, ReadIndex, acknowledgements, heartbeats responses,
 * snapshot reports, check-quorum and leadership transfer.
 */
import type { Progress } from "./progress.js";
import type { RaftBase } from "./raft-base.js";
import {
  bcastHeartbeat,
  maybeCommit,
  maybeSendAppend,
  scheduleBroadcast,
  startReadIndexRound,
} from "./replication.js";
import type { Entry, Message, NodeId, RaftErrorReason } from "./types.js";
import { NONE } from "./types.js";
import { assert } from "./util.js";

/** Handles a message as leader; returns a reason when a local request is refused. */
export function stepLeader(r: RaftBase, m: Message): RaftErrorReason | undefined {
  switch (m.type) {
    case "MsgBeat":
      bcastHeartbeat(r, r.readOnly.lastPendingContext());
      return undefined;
    case "MsgCheckQuorum":
      checkQuorum(r);
      return undefined;
    case "MsgProp":
      return propose(r, m);
    case "MsgReadIndex":
      readIndex(r, m);
      return undefined;
    default:
      break;
  }
  const pr = r.prs.progress.get(m.from);
  if (pr === undefined) {
    r.logger.debug(`${r.id} no progress available for ${m.from}`);
    return undefined;
  }
  switch (m.type) {
    case "MsgAppResp":
      handleAppendResponse(r, m, pr);
      break;
    case "MsgHeartbeatResp":
      handleHeartbeatResponse(r, m, pr);
      break;
    case "MsgSnapStatus":
      handleSnapshotStatus(r, m, pr);
      break;
    case "MsgUnreachable":
      // The transport could not deliver: stop pipelining and probe again.
      if (pr.state === "replicate") pr.becomeProbe();
      r.logger.debug(`${r.id} failed to send message to ${m.from} because it is unreachable [${pr}]`);
      break;
    case "MsgTransferLeader":
      transferLeader(r, m.from, pr);
      break;
    default:
      break;
  }
  return undefined;
}

function checkQuorum(r: RaftBase): void {
  if (!r.prs.quorumActive(r.id)) {
    r.logger.warn(`${r.id} stepped down to follower since quorum is not active`);
    r.becomeFollower(r.term, NONE);
  }
  // Every member must prove itself again within the next election timeout.
  for (const [id, pr] of r.prs.progress) if (id !== r.id) pr.recentActive = false;
}

function propose(r: RaftBase, m: Message): RaftErrorReason | undefined {
  assert(m.entries.length > 0, `${r.id} stepped empty MsgProp`);
  if (!r.prs.progress.has(r.id)) return "proposalDropped"; // removed from the group
  if (r.leadTransferee !== NONE) {
    r.logger.debug(
      `${r.id} [term ${r.term}] transfer leadership to ${r.leadTransferee} is in progress; dropping proposal`,
    );
    return "proposalDropped";
  }
  const entries = m.entries.map((e, i) => guardConfChange(r, e, i));
  if (!r.appendEntries(entries)) return "proposalDropped";
  scheduleBroadcast(r);
  return undefined;
}

/** One membership change at a time: a second one before the first is applied becomes a no-op entry. */
function guardConfChange(r: RaftBase, e: Entry, offset: number): Entry {
  if (e.type !== "confChange") return e;
  if (r.pendingConfIndex > r.log.applied) {
    r.logger.info(
      `${r.id} ignoring conf change at index ${r.log.lastIndex() + offset + 1} since pending conf change at ${r.pendingConfIndex} is not applied yet (applied ${r.log.applied})`,
    );
    return { ...e, type: "normal", data: new Uint8Array(0) };
  }
  r.pendingConfIndex = r.log.lastIndex() + offset + 1;
  return e;
}

function readIndex(r: RaftBase, m: Message): void {
  if (r.prs.voters.length === 1 && r.prs.isVoter(r.id)) {
    // A single voter is the quorum: its commit index is current by definition.
    r.answerReadIndex(m, r.log.committed);
    return;
  }
  if (!r.committedEntryInCurrentTerm()) {
    // Our commit index may lag the previous leader's until an entry of our term commits.
    r.pendingReadIndexMessages.push(m);
    return;
  }
  startReadIndexRound(r, m);
}

function handleAppendResponse(r: RaftBase, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    r.logger.debug(
      `${r.id} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`,
    );
    const hint = m.logTerm > 0 ? r.log.findConflictByTerm(m.rejectHint, m.logTerm) : m.rejectHint;
    if (pr.maybeDecrTo(m.index, hint)) {
      r.logger.debug(`${r.id} decreased progress of ${m.from} to [${pr}]`);
      if (pr.state === "replicate") pr.becomeProbe();
      maybeSendAppend(r, m.from, true);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === "probe") {
    pr.becomeReplicate();
  } else if (pr.state === "snapshot" && pr.match >= pr.pendingSnapshot) {
    r.logger.debug(
      `${r.id} recovered from needing snapshot, resumed sending replication messages to ${m.from}`,
    );
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === "replicate") {
    pr.inflights.freeLE(m.index);
  }
  maybeCommit(r);
  // A paused follower is unblocked now; a scheduled broadcast would reach it anyway.
  if (wasPaused && !r.broadcastPending) maybeSendAppend(r, m.from, true);
  // Fill the window: send everything flow control allows.
  while (maybeSendAppend(r, m.from, false)) {}
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.logger.info(`${r.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
    r.send({ type: "MsgTimeoutNow", to: m.from });
  }
}

function handleHeartbeatResponse(r: RaftBase, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // The follower is alive: let one more append through a full window so a lost ack cannot stall it.
  if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.log.lastIndex()) maybeSendAppend(r, m.from, true);
  if (m.context === undefined || m.context.byteLength === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined || !r.prs.hasQuorum(acks)) return;
  for (const status of r.readOnly.advance(m.context)) r.answerReadIndex(status.request, status.index);
}

function handleSnapshotStatus(r: RaftBase, m: Message, pr: Progress): void {
  if (pr.state !== "snapshot") return;
  if (m.reject) {
    pr.pendingSnapshot = 0;
    r.logger.debug(`${r.id} snapshot failed, resumed sending replication messages to ${m.from} [${pr}]`);
  } else {
    r.logger.debug(`${r.id} snapshot succeeded, resumed sending replication messages to ${m.from} [${pr}]`);
  }
  pr.becomeProbe();
  // Wait for a heartbeat response before the next probe: the snapshot may still be in flight.
  pr.probeSent = true;
}

function transferLeader(r: RaftBase, transferee: NodeId, pr: Progress): void {
  if (pr.isLearner) {
    r.logger.debug(`${r.id} is learner. Ignored transferring leadership`);
    return;
  }
  const last = r.leadTransferee;
  if (last !== NONE) {
    if (last === transferee) {
      r.logger.info(
        `${r.id} [term ${r.term}] transfer leadership to ${transferee} is in progress, ignores request to same node ${transferee}`,
      );
      return;
    }
    r.abortLeaderTransfer();
    r.logger.info(`${r.id} [term ${r.term}] abort previous transferring leadership to ${last}`);
  }
  if (transferee === r.id) {
    r.logger.debug(`${r.id} is already leader. Ignored transferring leadership to self`);
    return;
  }
  r.logger.info(`${r.id} [term ${r.term}] starts to transfer leadership to ${transferee}`);
  // The transfer must finish within an election timeout, or it is abandoned.
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.log.lastIndex()) {
    r.logger.info(
      `${r.id} sends MsgTimeoutNow to ${transferee} immediately as ${transferee} already has up-to-date log`,
    );
    r.send({ type: "MsgTimeoutNow", to: transferee });
  } else {
    maybeSendAppend(r, transferee, true);
  }
}
