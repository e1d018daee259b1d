/**
 * The revisions of one key, kept in the in-memory index as ONE flat number array because the
 * index holds millions of them (one array per key instead of etcd's keyIndex + generation objects):
 *
 *   [created, firstVersion, newestStart, main0, sub0, main1, sub1, ...]   oldest revision first
 *
 * A tombstone stores its sub as `-(sub + 1)`; it ends a generation, and the next put starts a new
 * one. `created`/`firstVersion` describe the first stored revision: compaction may drop the start
 * of the oldest generation, and etcd keeps its create revision and version numbering. Later
 * generations start at the put after a tombstone, with version 1. `newestStart` is the index of
 * the newest generation's first revision (one past the last tombstone, or 0), so that a put's
 * create revision and version cost O(1) however long the key's history is (a key rewritten
 * 100,000 times, as etcd's benchmark tool does by default, made every put scan its history).
 */
export type KeyHistory = number[];

/** Offset of the first (main, sub) pair. */
const HEAD = 3;

/** Starts a history whose first stored revision is a put with the given create revision/version. */
export function newHistory(created: number, version: number, main: number, sub: number): KeyHistory {
  return [created, version, 0, main, sub];
}

/** A history from its first stored revision's create revision/version and its (main, sub) pairs. */
function withPairs(created: number, version: number, pairs: number[]): KeyHistory {
  let newestStart = 0;
  for (let i = pairs.length / 2 - 1; i >= 0; i--) {
    if ((pairs[2 * i + 1] as number) < 0) {
      newestStart = i + 1;
      break;
    }
  }
  return [created, version, newestStart, ...pairs];
}

/** Number of stored revisions. */
export function revisionCount(h: KeyHistory): number {
  return (h.length - HEAD) / 2;
}

/** Main revision of the i-th stored revision. */
export function mainAt(h: KeyHistory, i: number): number {
  return h[HEAD + 2 * i] as number;
}

/** Sub revision of the i-th stored revision (tombstones decoded). */
export function subAt(h: KeyHistory, i: number): number {
  const sub = h[HEAD + 2 * i + 1] as number;
  return sub < 0 ? -sub - 1 : sub;
}

/** Whether the i-th stored revision is a tombstone. */
export function isTombstoneAt(h: KeyHistory, i: number): boolean {
  return (h[HEAD + 2 * i + 1] as number) < 0;
}

/** Whether the key exists at the latest revision. */
export function isLive(h: KeyHistory): boolean {
  return !isTombstoneAt(h, revisionCount(h) - 1);
}

/** Index of the newest stored revision with main <= atRev, or -1. */
export function indexAtOrBelow(h: KeyHistory, atRev: number): number {
  for (let i = revisionCount(h) - 1; i >= 0; i--) {
    if (mainAt(h, i) <= atRev) return i;
  }
  return -1;
}

/** Index of the put that holds the key's value at atRev, or -1 when the key is absent then. */
export function liveIndexAt(h: KeyHistory, atRev: number): number {
  const i = indexAtOrBelow(h, atRev);
  return i >= 0 && !isTombstoneAt(h, i) ? i : -1;
}

function generationStart(h: KeyHistory, i: number): number {
  const newestStart = h[2] as number;
  if (i >= newestStart) return newestStart;
  for (let j = i - 1; j >= 0; j--) {
    if (isTombstoneAt(h, j)) return j + 1;
  }
  return 0;
}

/** create_revision of the key as of the put at index i. */
export function createdAt(h: KeyHistory, i: number): number {
  const start = generationStart(h, i);
  return start === 0 ? (h[0] as number) : mainAt(h, start);
}

/** version of the key as of the put at index i (1 for the put that created it). */
export function versionAt(h: KeyHistory, i: number): number {
  const start = generationStart(h, i);
  return start === 0 ? (h[1] as number) + i : i - start + 1;
}

/** Appends a put; the caller computed create revision/version from the previous state. */
export function appendPut(h: KeyHistory, main: number, sub: number): void {
  h.push(main, sub);
}

/** Appends a tombstone (the key must be live). */
export function appendTombstone(h: KeyHistory, main: number, sub: number): void {
  h.push(main, -sub - 1);
  h[2] = revisionCount(h);
}

/** Whether the history still holds revision {main, sub}. */
export function holdsRevision(h: KeyHistory, main: number, sub: number): boolean {
  for (let i = revisionCount(h) - 1; i >= 0; i--) {
    const m = mainAt(h, i);
    if (m === main && subAt(h, i) === sub) return true;
    if (m < main) return false;
  }
  return false;
}

/**
 * etcd's keyIndex.compact: drops every revision <= atRev except the newest one if it is a put
 * (a read at atRev still needs it); generations that ended at or before atRev go entirely.
 * Returns the history to keep (possibly the same array) or undefined when nothing is left.
 */
export function compactHistory(h: KeyHistory, atRev: number): KeyHistory | undefined {
  const k = indexAtOrBelow(h, atRev);
  if (k <= 0 && !(k === 0 && isTombstoneAt(h, 0))) return h;
  const count = revisionCount(h);
  if (isTombstoneAt(h, k)) {
    if (k === count - 1) return undefined;
    const rest = h.slice(HEAD + 2 * (k + 1));
    return withPairs(rest[0] as number, 1, rest);
  }
  return withPairs(createdAt(h, k), versionAt(h, k), h.slice(HEAD + 2 * k));
}
