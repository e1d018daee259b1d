import { crc32c } from "@node-rs/crc32";
import { EtcdServerError } from "../errors.js";
import { isTombstoneAt, liveIndexAt, mainAt, subAt } from "./key-history.js";
import { decodeKeyValueHead } from "./kv-codec.js";
import { decodeRevision, encodeRevision } from "./revision.js";
import type { MvccStore } from "./store.js";

/** etcd's HashKV answer. */
export interface HashKVResult {
  /** CRC-32C (Castagnoli) over the bucket name and every counted revision key and value. */
  hash: number;
  /** Compaction revision when hashed (-1 if never compacted). */
  compactRevision: number;
  /** Revision the hash covers. */
  hashRevision: number;
}

const BUCKET_NAME = Buffer.from("key");

/**
 * etcd's HashByRev: a CRC-32C of the `key` bucket name, then of each stored revision key and
 * value up to `revision` (0 = current), in revision order. Revisions at or below the compaction
 * revision count only if they are the newest put of their key at `revision` (what a compaction
 * at `revision` would keep), so the hash is the same before and after physical compaction, on
 * every member, and matches etcd's for the same history.
 * It walks the whole backend `chunkSize` revisions at a time, with `pause()` between chunks so the
 * event loop keeps serving; physical compaction waits meanwhile (see ReadGate), and writes only
 * add revisions above the hashed one, so the hash is of one consistent state.
 */
export async function hashKV(
  store: MvccStore,
  revision: number,
  chunkSize: number,
  pause: () => Promise<void>,
): Promise<HashKVResult> {
  const compactRevision = store.compactRevision;
  if (revision > 0 && revision <= compactRevision) throw new EtcdServerError("compacted");
  if (revision > 0 && revision > store.currentRevision) throw new EtcdServerError("futureRev");
  const hashRevision = revision === 0 ? store.currentRevision : revision;
  const filterOld = keepsAnything(store, hashRevision);
  let hash = crc32c(BUCKET_NAME);
  const leave = store.readers.enter();
  try {
    let from: Buffer | undefined = encodeRevision(0, 0);
    while (from !== undefined) {
      let seen = 0;
      let next: Buffer | undefined;
      for (const { key, value } of store.backend.scan(from, hashRevision, chunkSize)) {
        seen++;
        const rev = decodeRevision(key);
        next = encodeRevision(rev.main, rev.sub + 1);
        if (
          filterOld &&
          rev.main <= compactRevision &&
          !isKept(store, value, rev.main, rev.sub, hashRevision)
        ) {
          continue;
        }
        hash = crc32c(value, crc32c(key, hash));
      }
      from = seen === chunkSize ? next : undefined;
      if (from !== undefined) await pause();
    }
  } finally {
    leave();
  }
  return { hash: hash >>> 0, compactRevision, hashRevision };
}

/** etcd skips the filter when Keep(rev) is empty: no key has a live put at rev. */
function keepsAnything(store: MvccStore, atRev: number): boolean {
  let found = false;
  store.index.forEachAt({ key: "", end: "" }, atRev, () => {
    found = true;
  });
  return found;
}

function isKept(store: MvccStore, value: Buffer, main: number, sub: number, atRev: number): boolean {
  const history = store.index.history(decodeKeyValueHead(value).key.toString("latin1"));
  if (history === undefined) return false;
  const i = liveIndexAt(history, atRev);
  return i >= 0 && !isTombstoneAt(history, i) && mainAt(history, i) === main && subAt(history, i) === sub;
}
