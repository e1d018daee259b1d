import { repairedAuthority, SCHEME_AUTHORITY } from "./authority.js";
import { Http2InputError } from "./errors.js";
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  FrameFlag,
  FrameType,
  headerBlockFrames,
  parseHeadersPayload,
} from "./frames.js";
import { type HeaderField, HpackDecoder, type HpackDecoderOptions } from "./hpack-decoder.js";
import { encodeLiteralBlock } from "./hpack-encoder.js";

/** Limits of an {@link AuthorityRepairer}; each must match what the server behind it advertises. */
export interface AuthorityRepairerOptions extends HpackDecoderOptions {
  /**
   * The server's SETTINGS_MAX_FRAME_SIZE, in payload octets. Re-encoded header blocks are split
   * into frames no larger; larger HEADERS/CONTINUATION frames from the client are rejected.
   * Default 16384 (the HTTP/2 default, which grpc-js keeps).
   */
  maxFrameBytes?: number;
  /**
   * Largest header block (all fragments of one HEADERS + CONTINUATION run) buffered, in octets.
   * Default 256 KiB.
   */
  maxHeaderBlockBytes?: number;
}

/** One HEADERS + CONTINUATION run being collected. */
interface PendingBlock {
  streamId: number;
  endStream: boolean;
  priority: Buffer | undefined;
  /** The frames exactly as received, to forward untouched when no repair is needed. */
  raw: Buffer[];
  fragments: Buffer[];
  bytes: number;
}

/**
 * Rewrites the client-to-server byte stream of one HTTP/2 connection so that every `:authority`
 * the server sees is acceptable (see {@link repairedAuthority}). Everything but header blocks
 * passes through as slices of the input; every header block is HPACK-decoded to keep an exact
 * mirror of the client's encoder state. While no block has needed a repair, blocks go out as
 * received. From the first block that needs one on, every block is re-encoded with literals that
 * never touch the server's dynamic table (whose contents then no longer matter), and dynamic
 * table size updates are dropped with them.
 *
 * {@link write} throws {@link Http2InputError} on input it cannot follow; the connection must
 * then be destroyed, as no further output would be meaningful.
 */
export class AuthorityRepairer {
  private readonly decoder: HpackDecoder;
  private readonly maxFrameBytes: number;
  private readonly maxHeaderBlockBytes: number;
  private prefaceSeen = 0;
  /** A frame header split across input chunks. */
  private readonly headerBuffer = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** Payload octets of the current pass-through frame still to come. */
  private passRemaining = 0;
  /** The HEADERS/CONTINUATION frame whose payload is being collected. */
  private frame: { raw: Buffer; type: number; flags: number; parts: Buffer[]; remaining: number } | undefined;
  private block: PendingBlock | undefined;
  private repairing = false;
  private repairedBlocks = 0;

  constructor(
    private readonly emit: (chunk: Buffer) => void,
    options: AuthorityRepairerOptions = {},
  ) {
    this.decoder = new HpackDecoder(options);
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxHeaderBlockBytes = options.maxHeaderBlockBytes ?? 256 * 1024;
  }

  /** Whether header blocks are being re-encoded (some `:authority` has needed a repair). */
  get reencoding(): boolean {
    return this.repairing;
  }

  /** How many header blocks had an `:authority` repaired. */
  get repairs(): number {
    return this.repairedBlocks;
  }

  /** Takes the next chunk from the client; emits what the server should receive, in order. */
  write(chunk: Buffer): void {
    let pos = this.prefaceSeen < CONNECTION_PREFACE.length ? this.preface(chunk) : 0;
    /** Start of the run of pass-through octets in `chunk` not yet emitted, or -1. */
    let passStart = this.frame === undefined && this.headerFill === 0 ? 0 : -1;
    const flush = (end: number) => {
      if (passStart >= 0 && passStart < end) this.emit(chunk.subarray(passStart, end));
      passStart = -1;
    };
    while (pos < chunk.length) {
      if (this.passRemaining > 0) {
        const n = Math.min(this.passRemaining, chunk.length - pos);
        pos += n;
        this.passRemaining -= n;
        continue;
      }
      if (this.frame !== undefined) {
        pos = this.collect(chunk, pos);
      } else if (this.headerFill === 0 && chunk.length - pos >= FRAME_HEADER_BYTES) {
        // Fast path: the whole frame header is in this chunk, and a passing frame stays in the run.
        const start = pos;
        const inline = this.inlineBlock(chunk, start);
        if (inline !== undefined) {
          pos = start + FRAME_HEADER_BYTES + chunk.readUIntBE(start, 3);
          if (inline !== null) {
            flush(start);
            this.emit(inline);
          }
        } else {
          pos += FRAME_HEADER_BYTES;
          if (!this.frameHeader(chunk, start)) {
            flush(start);
            this.collectEmpty();
          }
        }
      } else {
        flush(pos);
        const n = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - pos);
        chunk.copy(this.headerBuffer, this.headerFill, pos, pos + n);
        this.headerFill += n;
        pos += n;
        if (this.headerFill < FRAME_HEADER_BYTES) break;
        this.headerFill = 0;
        const header = Buffer.from(this.headerBuffer);
        if (this.frameHeader(header, 0)) this.emit(header);
        else this.collectEmpty();
      }
      if (passStart < 0 && this.frame === undefined) passStart = pos;
    }
    flush(chunk.length);
  }

  /** Completes the header frame just started if it has no payload to wait for. */
  private collectEmpty(): void {
    if (this.frame?.remaining === 0) this.frameComplete();
  }

  /** Checks the connection preface (which passes through); returns where frames begin. */
  private preface(chunk: Buffer): number {
    const n = Math.min(CONNECTION_PREFACE.length - this.prefaceSeen, chunk.length);
    if (!chunk.subarray(0, n).equals(CONNECTION_PREFACE.subarray(this.prefaceSeen, this.prefaceSeen + n))) {
      throw new Http2InputError("HTTP/2: bad connection preface");
    }
    this.prefaceSeen += n;
    return n;
  }

  /**
   * Reads the frame header at `buffer[start]`. Returns true if the frame passes through; false if
   * its payload is being collected as part of a header block (the header is kept with it).
   */
  private frameHeader(buffer: Buffer, start: number): boolean {
    const length = buffer.readUIntBE(start, 3);
    const type = buffer[start + 3]!;
    const flags = buffer[start + 4]!;
    const streamId = buffer.readUInt32BE(start + 5) & 0x7fff_ffff;
    if (this.block !== undefined && (type !== FrameType.CONTINUATION || streamId !== this.block.streamId)) {
      throw new Http2InputError("HTTP/2: header block interrupted by another frame");
    }
    if (type === FrameType.PUSH_PROMISE) throw new Http2InputError("HTTP/2: PUSH_PROMISE from a client");
    if (type === FrameType.CONTINUATION && this.block === undefined) {
      throw new Http2InputError("HTTP/2: CONTINUATION outside a header block");
    }
    if (type !== FrameType.HEADERS && type !== FrameType.CONTINUATION) {
      this.passRemaining = length;
      return true;
    }
    if (length > this.maxFrameBytes) throw new Http2InputError("HTTP/2: header frame above the maximum size");
    if (this.block === undefined) {
      this.block = { streamId, endStream: false, priority: undefined, raw: [], fragments: [], bytes: 0 };
    }
    const raw = buffer.subarray(start, start + FRAME_HEADER_BYTES);
    this.frame = { raw, type, flags, parts: [], remaining: length };
    return false;
  }

  /** Collects payload of the current header frame from `chunk[pos]`; returns the new position. */
  private collect(chunk: Buffer, pos: number): number {
    const frame = this.frame!;
    const n = Math.min(frame.remaining, chunk.length - pos);
    frame.parts.push(chunk.subarray(pos, pos + n));
    frame.remaining -= n;
    if (frame.remaining === 0) this.frameComplete();
    return pos + n;
  }

  private frameComplete(): void {
    const frame = this.frame!;
    const block = this.block!;
    this.frame = undefined;
    const payload = frame.parts.length === 1 ? frame.parts[0]! : Buffer.concat(frame.parts);
    let fragment = payload;
    if (frame.type === FrameType.HEADERS) {
      const parsed = parseHeadersPayload(frame.flags, payload);
      fragment = parsed.fragment;
      block.priority = parsed.priority;
      block.endStream = (frame.flags & FrameFlag.END_STREAM) !== 0;
    }
    block.raw.push(frame.raw, payload);
    block.fragments.push(fragment);
    block.bytes += fragment.length;
    if (block.bytes > this.maxHeaderBlockBytes) throw new Http2InputError("HTTP/2: header block too large");
    if (frame.flags & FrameFlag.END_HEADERS) this.blockComplete(block);
  }

  /**
   * Handles in place a HEADERS frame at `chunk[start]` that carries a whole block and lies whole
   * in `chunk` (the usual case): returns null if it passes unchanged (it then stays part of the
   * pass-through run: no copy, no extra emit), or the frames to send instead. Returns undefined
   * for any other frame.
   */
  private inlineBlock(chunk: Buffer, start: number): Buffer | null | undefined {
    const length = chunk.readUIntBE(start, 3);
    const flags = chunk[start + 4]!;
    const end = start + FRAME_HEADER_BYTES + length;
    const whole = chunk[start + 3] === FrameType.HEADERS && flags & FrameFlag.END_HEADERS;
    if (!whole || this.block !== undefined || end > chunk.length || length > this.maxFrameBytes)
      return undefined;
    const { priority, fragment } = parseHeadersPayload(
      flags,
      chunk.subarray(start + FRAME_HEADER_BYTES, end),
    );
    const fields = this.decodeBlock(fragment);
    if (fields === undefined) return null;
    const streamId = chunk.readUInt32BE(start + 5) & 0x7fff_ffff;
    return this.reencode(streamId, (flags & FrameFlag.END_STREAM) !== 0, priority, fields);
  }

  private blockComplete(block: PendingBlock): void {
    this.block = undefined;
    const fields = this.decodeBlock(
      block.fragments.length === 1 ? block.fragments[0]! : Buffer.concat(block.fragments),
    );
    this.emit(
      fields === undefined
        ? Buffer.concat(block.raw)
        : this.reencode(block.streamId, block.endStream, block.priority, fields),
    );
  }

  /**
   * Decodes a complete header block. Returns undefined if it can go to the server as it came,
   * or its fields, with `:authority` repaired, to re-encode.
   */
  private decodeBlock(bytes: Buffer): HeaderField[] | undefined {
    const fields = this.repairing
      ? this.decoder.decode(bytes)
      : this.decoder.decodeIfWatched(bytes, SCHEME_AUTHORITY);
    if (fields === undefined) return undefined;
    this.repairing = true;
    let repaired = false;
    for (const field of fields) {
      const value = field.name === ":authority" ? repairedAuthority(field.value) : undefined;
      if (value === undefined) continue;
      field.value = value;
      repaired = true;
    }
    if (repaired) this.repairedBlocks++;
    return fields;
  }

  private reencode(
    streamId: number,
    endStream: boolean,
    priority: Buffer | undefined,
    fields: HeaderField[],
  ): Buffer {
    const block = encodeLiteralBlock(fields);
    return headerBlockFrames({ streamId, endStream, priority, block, maxFrameBytes: this.maxFrameBytes });
  }
}
