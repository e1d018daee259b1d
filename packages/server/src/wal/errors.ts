/**
 * The WAL on disk is damaged in a way that may lose acknowledged writes: a bad record that is not
 * the torn tail of the last segment, a missing segment, or records that contradict each other.
 * The server must refuse to start; `file` and `offset` say where to look.
 */
export class WalCorruptError extends Error {
  /** Path of the damaged segment file (or the WAL directory when no single file is at fault). */
  readonly file: string;
  /** Byte offset of the bad record in `file`; -1 when not about one record. */
  readonly offset: number;

  constructor(file: string, offset: number, reason: string) {
    super(
      offset >= 0 ? `wal corrupt: ${file} at offset ${offset}: ${reason}` : `wal corrupt: ${file}: ${reason}`,
    );
    this.name = "WalCorruptError";
    this.file = file;
    this.offset = offset;
  }
}
