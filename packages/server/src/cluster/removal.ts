import type { Member } from "./membership.js";

/**
 * Why a member stops once it applies its own removal (etcd's message). Not a failure: etcd logs
 * it and exits with status 0.
 */
export class MemberRemovedError extends Error {
  constructor() {
    super("the member has been permanently removed from the cluster");
    this.name = "MemberRemovedError";
  }
}

/** etcd lets a removed member run this long, so its last messages (the commit) still go out. */
const REMOVED_STOP_DELAY_MS = 1_000;

/**
 * Stops the member (through `stop` with a {@link MemberRemovedError}; the process exits)
 * shortly after it applies its own removal, as etcd does; the other members already drop its
 * messages.
 */
export function stopWhenRemoved(
  stateMachine: {
    isRemoved(id: bigint): boolean;
    onMembersChanged(listener: (members: readonly Member[]) => void): unknown;
  },
  self: bigint,
  stop: (error: Error) => void,
): void {
  let stopping = false;
  stateMachine.onMembersChanged(() => {
    if (stopping || !stateMachine.isRemoved(self)) return;
    stopping = true;
    setTimeout(() => stop(new MemberRemovedError()), REMOVED_STOP_DELAY_MS).unref();
  });
}
