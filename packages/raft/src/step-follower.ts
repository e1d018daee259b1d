/**
 * Message handling of followers and (pre-)candidates: accepting appends, heartbeats and snapshots
 * from the leader, forwarding requests to it, and counting votes.
 */
import type { RaftBase } from "./raft-base.js";
import { bcastAppend } from "./replication.js";
import type { Message, RaftErrorReason } from "./types.js";
import { NONE } from "./types.js";

/** Handles a message as follower; returns a reason when a local request is refused. */
export function stepFollower(r: RaftBase, m: Message): RaftErrorReason | undefined {
  switch (m.type) {
    case "MsgProp":
      if (r.lead === NONE) {
        r.logger.info(`${r.id} no leader at term ${r.term}; dropping proposal`);
        return "proposalDropped";
      }
      if (r.cfg.disableProposalForwarding) {
        r.logger.info(`${r.id} not forwarding to leader ${r.lead} at term ${r.term}; dropping proposal`);
        return "proposalDropped";
      }
      r.send({ ...m, to: r.lead });
      return undefined;
    case "MsgApp":
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppend(r, m);
      return undefined;
    case "MsgHeartbeat":
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return undefined;
    case "MsgSnap":
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return undefined;
    case "MsgTransferLeader":
    case "MsgReadIndex":
      if (r.lead === NONE) {
        r.logger.info(`${r.id} no leader at term ${r.term}; dropping ${m.type}`);
        return undefined;
      }
      r.send({ ...m, to: r.lead });
      return undefined;
    case "MsgTimeoutNow":
      r.logger.info(
        `${r.id} [term ${r.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership`,
      );
      // The leader asked us to take over: skip the pre-vote, the old leader is stepping aside.
      r.hup("transfer");
      return undefined;
    case "MsgReadIndexResp":
      r.readStates.push({ index: m.index, requestCtx: m.context ?? new Uint8Array(0) });
      return undefined;
    default:
      return undefined;
  }
}

/** Handles a message as pre-candidate or candidate. */
export function stepCandidate(r: RaftBase, m: Message): RaftErrorReason | undefined {
  // A pre-candidate counts MsgPreVoteResp; a candidate counts MsgVoteResp. Stale ones are ignored.
  const voteRespType = r.role === "preCandidate" ? "MsgPreVoteResp" : "MsgVoteResp";
  switch (m.type) {
    case "MsgProp":
      r.logger.info(`${r.id} no leader at term ${r.term}; dropping proposal`);
      return "proposalDropped";
    case "MsgApp":
      r.becomeFollower(m.term, m.from);
      handleAppend(r, m);
      return undefined;
    case "MsgHeartbeat":
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return undefined;
    case "MsgSnap":
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return undefined;
    case "MsgTimeoutNow":
      r.logger.debug(`${r.id} [term ${r.term} state ${r.role}] ignored MsgTimeoutNow from ${m.from}`);
      return undefined;
    default:
      break;
  }
  if (m.type !== voteRespType) return undefined;
  const result = r.poll(m.from, m.type, !m.reject);
  const { granted, rejected } = r.prs.tallyVotes();
  r.logger.info(
    `${r.id} has received ${granted} ${m.type} votes and ${rejected} vote rejections at term ${r.term}`,
  );
  if (result === "won") {
    if (r.role === "preCandidate") {
      r.campaign("election");
    } else {
      r.becomeLeader();
      bcastAppend(r);
    }
  } else if (result === "lost") {
    // A rejected pre-vote carries our own term (or a higher one, already handled in step).
    r.becomeFollower(r.term, NONE);
  }
  return undefined;
}

/** Appends the leader's entries if our log matches at (m.index, m.logTerm); otherwise hints where it may. */
function handleAppend(r: RaftBase, m: Message): void {
  if (m.index < r.log.committed) {
    r.send({ type: "MsgAppResp", to: m.from, index: r.log.committed });
    return;
  }
  const appended = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (appended !== undefined) {
    if (appended.replacedFrom !== undefined) r.dropStaleAcks(appended.replacedFrom);
    r.send({ type: "MsgAppResp", to: m.from, index: appended.lastNew });
    return;
  }
  r.logger.debug(
    `${r.id} [logterm: ${r.log.term(m.index) ?? 0}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
  );
  // Skip back over every entry of a term the leader cannot have at that index (fast backtracking).
  const hintIndex = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm);
  const hintTerm = r.log.term(hintIndex) ?? 0;
  r.send({
    type: "MsgAppResp",
    to: m.from,
    index: m.index,
    reject: true,
    rejectHint: hintIndex,
    logTerm: hintTerm,
  });
}

function handleHeartbeat(r: RaftBase, m: Message): void {
  r.log.commitTo(m.commit);
  r.send({
    type: "MsgHeartbeatResp",
    to: m.from,
    ...(m.context === undefined ? {} : { context: m.context }),
  });
}

function handleSnapshot(r: RaftBase, m: Message): void {
  const snap = m.snapshot;
  if (snap === undefined) return;
  const { index, term } = snap.metadata;
  if (r.restore(snap)) {
    r.send({ type: "MsgAppResp", to: m.from, index: r.log.lastIndex() });
  } else {
    r.logger.info(`${r.id} [commit: ${r.log.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
    r.send({ type: "MsgAppResp", to: m.from, index: r.log.committed });
  }
}
