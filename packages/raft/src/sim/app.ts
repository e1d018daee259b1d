/**
 * The simulator's replicated state machine: it folds every applied entry into a rolling hash, so two
 * members that applied different entries at one index end with different hashes.
 */
import type { ConfState, Entry, Snapshot } from "../types.js";

/** What a member has applied: the index, the hash of every entry up to it, and the membership then. */
export interface AppState {
  index: number;
  hash: number;
  confState: ConfState;
}

/** A string that identifies an entry's content (term, type and data): equal keys, equal entries. */
export function entryKey(e: Entry): string {
  let s = `${e.term}${e.type === "normal" ? "n" : "c"}`;
  for (let i = 0; i < e.data.byteLength; i++) s += String.fromCharCode(e.data[i]!);
  return s;
}

/** Folds an entry into the hash (FNV-1a over its key and index). */
export function foldEntry(hash: number, e: Entry): number {
  let h = hash ^ e.index;
  const key = entryKey(e);
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Snapshot payload: applied index and hash (the membership travels in the snapshot metadata). The bootstrap snapshot is empty. */
export function encodeAppSnapshot(app: AppState): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setFloat64(0, app.index);
  view.setUint32(8, app.hash);
  return out;
}

/** Restores the state machine from a snapshot payload and its membership. */
export function decodeAppSnapshot(snap: Snapshot): AppState {
  const { data, metadata } = snap;
  const confState = metadata.confState;
  if (data.byteLength === 0) return { index: metadata.index, hash: 0, confState };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { index: view.getFloat64(0), hash: view.getUint32(8), confState };
}
