import { type ConfChange, type ConfState, decodeConfChange, type Entry, type RawNode } from "@keyway/raft";
import type { StateMachine } from "../apply/index.js";
import { decodeConfChangeContext } from "../cluster/conf-change-context.js";
import type { Member } from "../cluster/membership.js";
import { EtcdServerError } from "../errors.js";

interface ConfWaiter {
  deadlineMs: number;
  resolve(members: readonly Member[]): void;
  reject(error: Error): void;
}

/**
 * Membership changes as log entries: each applies to the member table first (validated there as
 * etcd does at apply), and only an accepted one changes Raft's configuration. The member that
 * proposed it answers its caller by the request id in the entry's context.
 */
export class ConfChanges {
  private readonly waiters = new Map<bigint, ConfWaiter>();

  /** Registers the caller of a proposed change. */
  wait(requestId: bigint, waiter: ConfWaiter): void {
    this.waiters.set(requestId, waiter);
  }

  /** Forgets a caller that gave up (its change may still be applied). */
  forget(requestId: bigint): void {
    this.waiters.delete(requestId);
  }

  /**
   * Applies a committed membership entry; returns Raft's new configuration, or undefined when it
   * did not change. An entry the backend already holds (re-applied after a restart, when Raft
   * replays from the WAL's snapshot marker) changes only Raft's configuration, and only as far
   * as the member table shows it was accepted.
   */
  apply(entry: Entry, node: RawNode, stateMachine: StateMachine): ConfState | undefined {
    const cc = decodeConfChange(entry.data);
    const context = cc.context === undefined ? undefined : decodeConfChangeContext(cc.context);
    if (entry.index <= stateMachine.appliedIndex) {
      return wasAccepted(cc, stateMachine) ? node.applyConfChange(cc) : undefined;
    }
    if (context === undefined) throw new Error(`conf change entry ${entry.index} has no context`);
    const outcome = stateMachine.applyMemberChange({ index: entry.index, term: entry.term }, context.change);
    const waiter = this.waiters.get(context.requestId);
    this.waiters.delete(context.requestId);
    if (!outcome.ok) {
      waiter?.reject(outcome.error);
      return undefined;
    }
    const confState = node.applyConfChange(cc);
    waiter?.resolve(outcome.members);
    return confState;
  }

  /** Fails the callers whose deadline passed. */
  expire(nowMs: number): void {
    for (const [id, waiter] of this.waiters) {
      if (waiter.deadlineMs > nowMs) continue;
      this.waiters.delete(id);
      waiter.reject(new EtcdServerError("timeout"));
    }
  }

  /** Fails every caller with `error`. */
  rejectAll(error: () => Error): void {
    for (const waiter of this.waiters.values()) waiter.reject(error());
    this.waiters.clear();
  }
}

/** Whether the member table reflects `cc` having been accepted when it was first applied. */
function wasAccepted(cc: ConfChange, stateMachine: StateMachine): boolean {
  if (cc.type === "removeNode") return true;
  return (
    stateMachine.members().some((member) => member.id === cc.nodeId) || stateMachine.isRemoved(cc.nodeId)
  );
}
