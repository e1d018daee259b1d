/**
 * Recovery on open: read every segment in order, verify every record, cut a torn tail off the
 * last segment, and fold the records into the replayed state.
 */
import { join } from "node:path";
import { decodeSegment } from "./decode.js";
import { WalCorruptError } from "./errors.js";
import type { WalFs } from "./fs.js";
import { ReplayState } from "./replay.js";
import { listSegments, removeLeftovers, type SegmentName } from "./segment-file.js";
import type { WalLogger } from "./types.js";

/** A segment found on disk, with what the WAL needs to know to release it. */
export interface RecoveredSegment extends SegmentName {
  /** Highest entry index the segment holds; -1 when it holds none. */
  maxEntryIndex: number;
}

/** What {@link recoverDir} found. */
export interface Recovered {
  state: ReplayState;
  /** In seq order; empty when the WAL is new. */
  segments: RecoveredSegment[];
  /** Length of the last segment's valid prefix; the file must be cut there before appending. */
  tailBytes: number;
  /** Bytes of a torn tail to cut off the last segment (0 when none). */
  tornBytes: number;
  /** Length of the last segment's file (its zeros after `tailBytes` are preallocated room). */
  tailFileBytes: number;
}

/** Reads back every segment in `dir`, cutting a torn tail off the last one. */
export async function recoverDir(fs: WalFs, dir: string, logger: WalLogger | undefined): Promise<Recovered> {
  const { segments: names, leftovers } = await listSegments(fs, dir);
  await removeLeftovers(fs, dir, leftovers);
  checkContiguous(dir, names);
  const state = new ReplayState();
  const segments: RecoveredSegment[] = [];
  let tailBytes = 0;
  let tornBytes = 0;
  let tailFileBytes = 0;
  for (const [i, name] of names.entries()) {
    const path = join(dir, name.name);
    const buf = await fs.readFile(path);
    const decoded = decodeSegment(buf);
    const isLast = i === names.length - 1;
    const { damage } = decoded;
    if (damage !== undefined) {
      if (!isLast || !damage.torn) throw new WalCorruptError(path, damage.offset, damage.reason);
      tornBytes = buf.length - decoded.validBytes;
      logger?.warn(
        { file: path, offset: damage.offset, droppedBytes: tornBytes, reason: damage.reason },
        "wal: truncating torn tail of last segment (an unacknowledged write)",
      );
    }
    if (decoded.records[0]?.type !== "metadata") {
      throw new WalCorruptError(path, 0, "segment does not start with a metadata record");
    }
    let maxEntryIndex = -1;
    for (const [k, record] of decoded.records.entries()) {
      const problem = state.apply(record);
      if (problem !== undefined) throw new WalCorruptError(path, decoded.recordOffsets[k]!, problem);
      if (record.type === "entry") maxEntryIndex = Math.max(maxEntryIndex, record.entry.index);
    }
    segments.push({ ...name, maxEntryIndex });
    tailBytes = decoded.validBytes;
    tailFileBytes = buf.length;
  }
  const problem = state.finish();
  if (problem !== undefined) throw new WalCorruptError(dir, -1, problem);
  return { state, segments, tailBytes, tornBytes, tailFileBytes };
}

function checkContiguous(dir: string, names: readonly SegmentName[]): void {
  for (let i = 1; i < names.length; i++) {
    const expected = names[i - 1]!.seq + 1;
    if (names[i]!.seq !== expected) {
      throw new WalCorruptError(dir, -1, `segment ${expected} is missing (found ${names[i]!.name})`);
    }
  }
}
