import type { StateMachine } from "../apply/index.js";
import { EtcdServerError } from "../errors.js";
import type { Proposer } from "../proposal/proposer.js";
import type { ClusterControl } from "../rpc/member-changes.js";
import type { Member, MemberChange } from "./membership.js";

/** Peer request kind: the leader says whether a learner may be promoted. */
export const LEARNER_READY = "member.learnerReady";

/** A learner may be promoted once its log reaches this share of the leader's (etcd's readyPercent). */
const READY_FRACTION = 0.9;

/** Asks the leader a peer request. */
export type AskLeader = (leader: bigint, kind: string, payload: Uint8Array) => Promise<Uint8Array>;

/**
 * etcd's checks before a membership change is proposed (`--strict-reconfig-check`, on by
 * default): a voter is added, removed or promoted only if enough members have started (published
 * their name) to keep a quorum afterwards; a learner is promoted only once its log is within 90% of
 * the leader's, which only the leader knows, so a follower asks it. Then the change is proposed.
 * (etcd also refuses a change while this member has not heard from every voter for 5 s; Keyway
 * does not check that yet.)
 */
export class RaftClusterControl implements ClusterControl {
  constructor(
    private readonly stateMachine: StateMachine,
    private readonly proposer: Proposer,
    private readonly askLeader: AskLeader,
  ) {}

  async proposeConfChange(change: MemberChange, signal: AbortSignal): Promise<readonly Member[]> {
    const voters = this.stateMachine.members().filter((member) => !member.isLearner);
    const started = (members: readonly Member[]) => members.filter((member) => member.name !== "").length;
    if (change.type === "add" && !change.member.isLearner) {
      // Adding to a one-member cluster is allowed (etcd: restoring a cluster from one member).
      const total = voters.length + 1;
      const up = started(voters);
      if (!(up === 1 && total === 2) && up < quorum(total))
        throw new EtcdServerError("memberNotEnoughStarted");
    }
    if (change.type === "remove" && voters.some((member) => member.id === change.id)) {
      const rest = voters.filter((member) => member.id !== change.id);
      if (started(rest) < quorum(rest.length)) throw new EtcdServerError("memberNotEnoughStarted");
    }
    if (change.type === "promote") {
      await this.checkLearnerReady(change.id);
      if (started(voters) + 1 < quorum(voters.length + 1))
        throw new EtcdServerError("memberNotEnoughStarted");
    }
    return this.proposer.proposeConfChange(change, signal);
  }

  /** The leader's answer to {@link LEARNER_READY}: empty when ready, else the refusal's reason. */
  serveLearnerReady(payload: Uint8Array): Uint8Array {
    const id = Buffer.from(payload).readBigUInt64BE(0);
    const refusal = this.learnerRefusal(id);
    return Buffer.from(refusal ?? "");
  }

  private async checkLearnerReady(id: bigint): Promise<void> {
    const { lead, isLeader } = this.proposer.leader;
    if (isLeader) {
      const refusal = this.learnerRefusal(id);
      if (refusal !== undefined) throw new EtcdServerError(refusal);
      return;
    }
    if (lead === 0n) throw new EtcdServerError("noLeader");
    const payload = Buffer.alloc(8);
    payload.writeBigUInt64BE(id);
    const answer = Buffer.from(await this.askLeader(lead, LEARNER_READY, payload)).toString();
    if (answer !== "") throw new EtcdServerError(answer as "learnerNotReady" | "notLeader");
  }

  /** On the leader: why `id` may not be promoted yet, if it may not. */
  private learnerRefusal(id: bigint): "learnerNotReady" | "notLeader" | undefined {
    const progress = this.proposer.progress();
    if (progress === undefined) return "notLeader";
    const learner = progress.get(id);
    const leader = progress.get(this.proposer.leader.lead);
    // An unknown or voting member is refused at apply, with the member table's error.
    if (learner === undefined || leader === undefined) return undefined;
    return learner.match < leader.match * READY_FRACTION ? "learnerNotReady" : undefined;
  }
}

function quorum(voters: number): number {
  return Math.floor(voters / 2) + 1;
}
