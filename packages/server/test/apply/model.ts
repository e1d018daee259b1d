import { EtcdServerError } from "../../src/errors.js";

/** A key's state in the model. */
export interface ModelKv {
  key: string;
  value: string;
  create: number;
  mod: number;
  version: number;
}

/** A key range in the model: end undefined = one key, "" = from key on. */
export interface ModelRange {
  key: string;
  end: string | undefined;
}

/** A write op of the model. */
export type ModelWrite = { put: string; value: string } | { del: ModelRange };

/**
 * etcd's KV semantics in the simplest possible form: a full copy of the keyspace per revision.
 * Only for tests against the real store over short random histories.
 */
export class KvModel {
  private readonly states: Map<string, ModelKv>[] = [new Map(), new Map()];
  compactRevision = -1;

  get currentRevision(): number {
    return this.states.length - 1;
  }

  private state(revision: number): Map<string, ModelKv> {
    return this.states[revision] as Map<string, ModelKv>;
  }

  /** Keys of a range at a revision, in key order; throws etcd's errors for bad revisions. */
  range(range: ModelRange, revision = 0): ModelKv[] {
    if (revision > this.currentRevision) throw new EtcdServerError("futureRev");
    const at = revision <= 0 ? this.currentRevision : revision;
    if (at < this.compactRevision) throw new EtcdServerError("compacted");
    return rangeOf(this.state(at), range);
  }

  /** Applies writes as one revision (a Put, DeleteRange or txn branch); returns whether it changed anything. */
  write(writes: ModelWrite[]): boolean {
    const next = new Map(this.state(this.currentRevision));
    const revision = this.currentRevision + 1;
    let changed = false;
    for (const write of writes) {
      if ("put" in write) {
        const prev = next.get(write.put);
        next.set(write.put, {
          key: write.put,
          value: write.value,
          create: prev?.create ?? revision,
          mod: revision,
          version: (prev?.version ?? 0) + 1,
        });
        changed = true;
      } else {
        for (const kv of rangeOf(next, write.del)) {
          next.delete(kv.key);
          changed = true;
        }
      }
    }
    if (changed) this.states.push(next);
    return changed;
  }

  /** etcd's Compact checks and effect. */
  compact(revision: number): void {
    if (revision <= this.compactRevision) throw new EtcdServerError("compacted");
    if (revision > this.currentRevision) throw new EtcdServerError("futureRev");
    this.compactRevision = revision;
  }
}

/** Whether a key is in a range. */
export function inRange(key: string, range: ModelRange): boolean {
  if (range.end === undefined) return key === range.key;
  return key >= range.key && (range.end === "" || key < range.end);
}

function rangeOf(state: Map<string, ModelKv>, range: ModelRange): ModelKv[] {
  return [...state.values()].filter((kv) => inRange(kv.key, range)).sort((a, b) => (a.key < b.key ? -1 : 1));
}
