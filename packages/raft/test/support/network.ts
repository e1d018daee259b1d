/**
 * A minimal in-memory cluster for programmatic tests: every node carries out its Readys faithfully
 * and messages are delivered in order unless a filter drops them.
 */
import type { Message, NodeId, RaftConfig } from "@keyway/raft";
import { MemoryStorage, RawNode, SeededRng } from "@keyway/raft";

/** Which messages to lose: return true to drop. */
export type DropFilter = (m: Message) => boolean;

/**
 * A cluster of `ids` (those in `learners` as learners) bootstrapped from a snapshot at index 1
 * holding the membership. Pre-vote and
 * check-quorum are off by default: the paper's algorithm has neither.
 */
export class TestNetwork {
  readonly nodes = new Map<NodeId, RawNode>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  readonly applied = new Map<NodeId, Uint8Array[]>();
  pending: Message[] = [];
  drop: DropFilter = () => false;

  constructor(ids: readonly NodeId[], options: Partial<RaftConfig> = {}, learners: readonly NodeId[] = []) {
    const voters = ids.filter((id) => !learners.includes(id));
    for (const id of ids) {
      const storage = new MemoryStorage();
      storage.applySnapshot({
        data: new Uint8Array(0),
        metadata: { index: 1, term: 1, confState: { voters, learners } },
      });
      storage.setHardState({ term: 1, vote: 0n, commit: 1 });
      this.storages.set(id, storage);
      this.applied.set(id, []);
      this.nodes.set(
        id,
        new RawNode({
          id,
          storage,
          rng: new SeededRng(Number(id)),
          preVote: false,
          checkQuorum: false,
          ...options,
        }),
      );
    }
  }

  node(id: NodeId): RawNode {
    return this.nodes.get(id)!;
  }

  /** Processes every node's Ready once (persist, queue messages, apply, advance); returns whether any had work. */
  processReadies(): boolean {
    let moved = false;
    for (const [id, node] of this.nodes) {
      if (!node.hasReady()) continue;
      moved = true;
      const rd = node.ready();
      const storage = this.storages.get(id)!;
      if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
      storage.append(rd.entries);
      if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
      this.pending.push(...rd.messages);
      for (const e of rd.committedEntries) if (e.data.byteLength > 0) this.applied.get(id)!.push(e.data);
      node.advance(rd);
    }
    return moved;
  }

  /** Delivers every queued message (dropping those the filter selects); returns how many were delivered. */
  deliverAll(): number {
    const batch = this.pending;
    this.pending = [];
    let n = 0;
    for (const m of batch) {
      if (this.drop(m)) continue;
      this.nodes.get(m.to)?.step(m);
      n++;
    }
    return n;
  }

  /** Runs Readys and deliveries until nothing moves. */
  stabilize(): void {
    for (let i = 0; i < 10_000; i++) {
      const moved = this.processReadies();
      if (this.deliverAll() === 0 && !moved) return;
    }
    throw new Error("network did not stabilize");
  }

  /** Isolates `ids` from everyone else (both directions). */
  isolate(...ids: NodeId[]): void {
    const cut = new Set(ids);
    this.drop = (m) => cut.has(m.from) !== cut.has(m.to);
  }

  heal(): void {
    this.drop = () => false;
  }

  /** Term of entry `index` in `id`'s log. */
  termAt(id: NodeId, index: number): number | undefined {
    return this.node(id).raft.log.term(index);
  }
}

/** UTF-8 bytes of a string. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
