import { MemberTable } from "../cluster/membership.js";
import { LeaseTable } from "../lease/lease-table.js";
import { Backend, Compactor, type KvBackend, MvccStore } from "../mvcc/index.js";
import type { ApplyLogger } from "./types.js";

/** What {@link loadState} needs of the state machine's options. */
export interface LoadOptions {
  logger?: ApplyLogger | undefined;
  yieldToEventLoop: () => Promise<void>;
  compactionBatchRevisions?: number | undefined;
}

/** The in-memory state of a state machine, rebuilt from its backend. */
export interface LoadedState {
  store: MvccStore;
  leases: LeaseTable;
  membership: MemberTable;
  compactor: Compactor;
}

/**
 * Builds the in-memory state from what `kv` holds: loads the lease and member tables, rebuilds the key index
 * and the key→lease attachments from the stored KeyValues, and resumes an unfinished physical
 * compaction. Run on open and after a snapshot restore replaced the backend's content.
 */
export function loadState(kv: KvBackend, options: LoadOptions): LoadedState {
  const backend = new Backend(kv);
  const leases = LeaseTable.load(backend);
  const membership = MemberTable.load(backend);
  const store = MvccStore.restore(backend, leases.restoreVisitor());
  const compactor = new Compactor(store, {
    yieldToEventLoop: options.yieldToEventLoop,
    onError: (error, revision) =>
      options.logger?.warn({ err: error, revision }, "physical compaction failed"),
    ...(options.compactionBatchRevisions === undefined
      ? {}
      : { batchRevisions: options.compactionBatchRevisions }),
  });
  if (store.compactRevision > compactor.finishedRevision) compactor.schedule(store.compactRevision);
  options.logger?.info(
    {
      appliedIndex: store.backend.appliedIndex,
      revision: store.currentRevision,
      keys: store.index.size,
      leases: leases.size,
      members: membership.size,
    },
    "mvcc store opened",
  );
  return { store, leases, membership, compactor };
}
