import type { KeyValue, Operation, Result } from "../history/types.js";

/**
 * The model of etcd's KV that the linearizability search replays operations on: a global
 * revision bumped by one per effective write, per-key create/mod revision, version and lease, and
 * the set of live leases. States are immutable; a step returns a new one.
 */
export interface ModelState {
  readonly revision: bigint;
  readonly keys: ReadonlyMap<string, KeyValue>;
  readonly leases: ReadonlySet<bigint>;
  /**
   * Identity of the state for the search's cache: a 64-bit hash of the revision and the keys. The
   * live leases are left out on purpose: they are a function of which operations were linearized
   * (grants and revokes), which the cache key already holds.
   */
  readonly cacheKey: string;
}

/** One change a write made, as a watch over its key must report it. */
export interface ModelEvent {
  readonly type: "put" | "delete";
  /** After the change; for a delete: the key and the delete's revision, everything else zero. */
  readonly kv: KeyValue;
  /** The key before the change, absent when it did not exist. */
  readonly prevKv: KeyValue | undefined;
}

/** What a step did: the next state and the events of the revision it created (if any). */
export interface StepResult {
  readonly state: ModelState;
  readonly events: readonly ModelEvent[];
}

/** The empty store of a fresh cluster: revision 1 (etcd's first write creates revision 2). */
export function initialState(): ModelState {
  return makeState(1n, new Map(), new Set());
}

/** A model state from its parts (the cache key is derived). */
export function makeState(
  revision: bigint,
  keys: ReadonlyMap<string, KeyValue>,
  leases: ReadonlySet<bigint>,
): ModelState {
  const parts = [...keys.values()]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(
      (kv) =>
        `${kv.key}\u0000${kv.value}\u0000${kv.createRevision}.${kv.modRevision}.${kv.version}.${kv.lease}`,
    );
  return { revision, keys, leases, cacheKey: hash64(`${revision}|${parts.join("\u0001")}`) };
}

/**
 * Two FNV-1a 32-bit hashes with different offsets, as one short string: the search's cache
 * holds one key per explored step, and full state strings made it hundreds of MB on long runs.
 */
function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}`;
}

/** True when two key-values are equal in every field. */
export function sameKv(a: KeyValue | undefined, b: KeyValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.key === b.key &&
    a.value === b.value &&
    a.createRevision === b.createRevision &&
    a.modRevision === b.modRevision &&
    a.version === b.version &&
    a.lease === b.lease
  );
}

/**
 * Applies `operation` to `state`. `result` is what the server answered (an `ok` outcome), or
 * undefined for an `unknown` outcome, which applies whatever the operation would have done.
 * Returns undefined when the operation cannot take effect here with that result (a different
 * revision, a different read, a lease that is not alive): the search then tries another order.
 */
export function step(
  state: ModelState,
  operation: Operation,
  result: Result | undefined,
): StepResult | undefined {
  switch (operation.kind) {
    case "get":
      return checkGet(state, operation.key, result);
    case "range":
      return checkRange(state, operation, result);
    case "put":
      return applyPut(state, operation.key, operation.value, operation.lease ?? 0n, result);
    case "delete":
      return applyDelete(state, operation.key, result);
    case "cas":
      return applyCas(state, operation, result);
    case "leaseGrant":
      return applyGrant(state, result);
    case "leaseRevoke":
      return applyRevoke(state, operation.lease, result);
  }
}

const unchanged = (state: ModelState): StepResult => ({ state, events: [] });

function checkGet(state: ModelState, key: string, result: Result | undefined): StepResult | undefined {
  if (result?.kind !== "get") return undefined;
  if (result.revision !== state.revision) return undefined;
  return sameKv(result.kv, state.keys.get(key)) ? unchanged(state) : undefined;
}

function checkRange(
  state: ModelState,
  operation: Extract<Operation, { kind: "range" }>,
  result: Result | undefined,
): StepResult | undefined {
  if (result?.kind !== "range") return undefined;
  if (result.revision !== state.revision) return undefined;
  const inRange = [...state.keys.values()]
    .filter((kv) => kv.key >= operation.start && (operation.end === "\u0000" || kv.key < operation.end))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  if (BigInt(inRange.length) !== result.count) return undefined;
  const limit = operation.limit ?? 0;
  const expected = limit > 0 ? inRange.slice(0, limit) : inRange;
  if (expected.length !== result.kvs.length) return undefined;
  return expected.every((kv, i) => sameKv(kv, result.kvs[i])) ? unchanged(state) : undefined;
}

/** The put itself, shared by plain puts and successful cas txns. */
function put(state: ModelState, key: string, value: string, lease: bigint): StepResult | undefined {
  if (lease !== 0n && !state.leases.has(lease)) return undefined; // etcd: "requested lease not found"
  const revision = state.revision + 1n;
  const previous = state.keys.get(key);
  const kv: KeyValue = {
    key,
    value,
    createRevision: previous?.createRevision ?? revision,
    modRevision: revision,
    version: (previous?.version ?? 0n) + 1n,
    lease,
  };
  const keys = new Map(state.keys);
  keys.set(key, kv);
  return { state: makeState(revision, keys, state.leases), events: [{ type: "put", kv, prevKv: previous }] };
}

function applyPut(
  state: ModelState,
  key: string,
  value: string,
  lease: bigint,
  result: Result | undefined,
): StepResult | undefined {
  if (result !== undefined && (result.kind !== "put" || result.revision !== state.revision + 1n))
    return undefined;
  return put(state, key, value, lease);
}

/** A delete event as etcd sends it: the key and the delete's revision, every other field zero. */
export function tombstone(key: string, revision: bigint): KeyValue {
  return { key, value: "", createRevision: 0n, modRevision: revision, version: 0n, lease: 0n };
}

function deleteKeys(state: ModelState, keysToDelete: readonly string[]): StepResult {
  const present = keysToDelete.filter((key) => state.keys.has(key)).sort();
  if (present.length === 0) return unchanged(state);
  const revision = state.revision + 1n;
  const keys = new Map(state.keys);
  const events = present.map((key): ModelEvent => {
    const prevKv = keys.get(key);
    keys.delete(key);
    return { type: "delete", kv: tombstone(key, revision), prevKv };
  });
  return { state: makeState(revision, keys, state.leases), events };
}

function applyDelete(state: ModelState, key: string, result: Result | undefined): StepResult | undefined {
  const next = deleteKeys(state, [key]);
  if (result === undefined) return next;
  if (result.kind !== "delete") return undefined;
  const deleted = BigInt(next.events.length);
  return result.deleted === deleted && result.revision === next.state.revision ? next : undefined;
}

function applyCas(
  state: ModelState,
  operation: Extract<Operation, { kind: "cas" }>,
  result: Result | undefined,
): StepResult | undefined {
  const current = state.keys.get(operation.key);
  const holds = (current?.modRevision ?? 0n) === operation.expectModRevision;
  if (result !== undefined) {
    if (result.kind !== "cas" || result.succeeded !== holds) return undefined;
    if (!holds)
      return result.revision === state.revision && sameKv(result.kv, current) ? unchanged(state) : undefined;
    if (result.revision !== state.revision + 1n) return undefined;
  }
  return holds ? put(state, operation.key, operation.value, 0n) : unchanged(state);
}

/**
 * LeaseGrant and LeaseRevoke headers are filled after the apply (etcd's v3rpc fills them with the
 * store's revision at send time), so their revision only bounds the apply from above.
 */
function applyGrant(state: ModelState, result: Result | undefined): StepResult | undefined {
  // An unknown grant has no id we could ever use; the search drops it before it gets here.
  if (result?.kind !== "leaseGrant" || state.revision > result.revision) return undefined;
  if (state.leases.has(result.lease)) return undefined;
  const leases = new Set(state.leases);
  leases.add(result.lease);
  return { state: makeState(state.revision, state.keys, leases), events: [] };
}

function applyRevoke(state: ModelState, lease: bigint, result: Result | undefined): StepResult | undefined {
  if (!state.leases.has(lease)) return undefined; // etcd would answer "requested lease not found"
  if (result !== undefined && result.kind !== "leaseRevoke") return undefined;
  const attached = [...state.keys.values()].filter((kv) => kv.lease === lease).map((kv) => kv.key);
  const deleted = deleteKeys(state, attached);
  if (result !== undefined && deleted.state.revision > result.revision) return undefined;
  const leases = new Set(state.leases);
  leases.delete(lease);
  return { state: makeState(deleted.state.revision, deleted.state.keys, leases), events: deleted.events };
}
