import { etcdserverpb } from "@keyway/api";
import { parseUrls } from "../cluster/initial-cluster.js";
import { computeMemberId } from "../cluster/member-id.js";
import { type Member, type MemberChange, toPbMember } from "../cluster/membership.js";
import { EtcdServerError } from "../errors.js";
import { callSignal } from "./call-signal.js";
import { fillHeader, type HeaderSource } from "./header.js";
import { type ServiceHandlers, unary } from "./unary.js";

/**
 * What the Cluster service's membership changes need from the member: `cluster/control.ts`
 * implements it (etcd's EtcdServer.AddMember / RemoveMember / UpdateMember / PromoteMember).
 */
export interface ClusterControl {
  /**
   * Checks what only Raft knows (etcd: not leader, `re-configuration failed due to not enough
   * started members` for voting changes, `can only promote a learner member which is in sync
   * with leader`), proposes the change as a Raft conf change entry, and resolves once that entry
   * is applied (StateMachine.applyMember*), with the members after it. Rejects with an
   * EtcdServerError: the ones above, and the apply-time ones (`member ID already exist`,
   * `Peer URLs already exists`, `member not found`, `can only promote a learner member`,
   * `too many learner members in cluster`). Stops waiting when `signal` aborts.
   */
  proposeConfChange(change: MemberChange, signal: AbortSignal): Promise<readonly Member[]>;
}

/** What {@link memberChangeService} needs. */
export interface MemberChangeDeps {
  header: HeaderSource;
  control: ClusterControl;
  /** Wall clock in ms; a runtime member's id hashes the Unix second of its MemberAdd. */
  nowMs: () => number;
}

/**
 * etcd's MemberAdd, MemberRemove, MemberUpdate and MemberPromote over a {@link ClusterControl}:
 * thin handlers, spread into the Cluster service beside MemberList once Raft is wired in.
 */
export function memberChangeService(
  deps: MemberChangeDeps,
): ServiceHandlers<
  etcdserverpb.ClusterServer,
  "memberAdd" | "memberRemove" | "memberUpdate" | "memberPromote"
> {
  const { control } = deps;
  // etcd's Cluster service leaves the revision out of its headers.
  const head = () => ({ ...fillHeader(deps.header, undefined), revision: 0n });
  const members = (list: readonly Member[]) => list.map(toPbMember);
  return {
    memberAdd: unary(async (request, call) => {
      let peerUrls: string[];
      try {
        peerUrls = parseUrls(request.peerURLs);
      } catch {
        throw new EtcdServerError("memberBadURLs");
      }
      // As etcd 3.4's MemberAdd: no cluster token in a runtime member's id, the time instead.
      const id = computeMemberId(peerUrls, "", Math.floor(deps.nowMs() / 1000));
      const member: Member = { id, name: "", peerUrls, clientUrls: [], isLearner: request.isLearner };
      const after = await control.proposeConfChange({ type: "add", member }, callSignal(call));
      return etcdserverpb.MemberAddResponse.fromPartial({
        header: head(),
        member: { ID: id, peerURLs: peerUrls, isLearner: request.isLearner },
        members: members(after),
      });
    }),
    memberRemove: unary(async (request, call) => {
      const after = await control.proposeConfChange({ type: "remove", id: request.ID }, callSignal(call));
      return etcdserverpb.MemberRemoveResponse.fromPartial({ header: head(), members: members(after) });
    }),
    memberUpdate: unary(async (request, call) => {
      // etcd 3.4 takes the URLs of an update as given, without checking them.
      const change: MemberChange = { type: "update", id: request.ID, peerUrls: request.peerURLs };
      const after = await control.proposeConfChange(change, callSignal(call));
      return etcdserverpb.MemberUpdateResponse.fromPartial({ header: head(), members: members(after) });
    }),
    memberPromote: unary(async (request, call) => {
      const after = await control.proposeConfChange({ type: "promote", id: request.ID }, callSignal(call));
      return etcdserverpb.MemberPromoteResponse.fromPartial({ header: head(), members: members(after) });
    }),
  };
}
