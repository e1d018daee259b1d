import { PeerProtocolError } from "./errors.js";

const TWO_POW_32 = 0x1_0000_0000;
/** The high word of Number.MAX_SAFE_INTEGER: larger high words are not safe integers. */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;
const MAX_UINT64 = (1n << 64n) - 1n;

/**
 * Writes little-endian fields into a buffer sized in advance (callers compute the exact size
 * first, so encoding allocates once). Out-of-range values are programming errors: they throw
 * RangeError.
 */
export class WireWriter {
  /** Where the next field goes. */
  offset: number;

  constructor(
    readonly buffer: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  /** One byte. */
  u8(value: number): void {
    this.buffer[this.offset++] = value;
  }

  /** A uint32, little-endian. */
  u32(value: number): void {
    this.buffer.writeUInt32LE(value, this.offset);
    this.offset += 4;
  }

  /** A non-negative safe integer as 8 bytes. */
  uint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`peer codec: ${value} is not a non-negative safe integer`);
    }
    this.buffer.writeUInt32LE(value % TWO_POW_32, this.offset);
    this.buffer.writeUInt32LE(Math.floor(value / TWO_POW_32), this.offset + 4);
    this.offset += 8;
  }

  /** A uint64 (member and cluster ids). */
  u64(value: bigint): void {
    if (value < 0n || value > MAX_UINT64) throw new RangeError(`peer codec: ${value} is not a uint64`);
    this.buffer.writeBigUInt64LE(value, this.offset);
    this.offset += 8;
  }

  /** A u32 length, then the bytes (copied once, here). */
  bytes(value: Uint8Array): void {
    this.u32(value.length);
    this.buffer.set(value, this.offset);
    this.offset += value.length;
  }
}

/**
 * Reads little-endian fields with a bounds check on every read; malformed input throws
 * {@link PeerProtocolError}, never a RangeError from deep inside Buffer.
 */
export class WireReader {
  private readonly view: DataView;
  private readonly bytesView: Uint8Array;
  /** Where the next field starts. */
  offset: number;

  constructor(input: Uint8Array, offset = 0) {
    // A plain Uint8Array view: slices of it are plain Uint8Arrays (not Buffers) and own their copy.
    this.bytesView = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
    this.offset = offset;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.bytesView.length - this.offset;
  }

  private need(count: number, what: string): void {
    if (count > this.remaining) {
      throw new PeerProtocolError(`truncated input: ${what} needs ${count} bytes, ${this.remaining} left`);
    }
  }

  /** One byte; `what` names the field in the error. */
  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.offset++);
  }

  /** A uint32. */
  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  /** A non-negative safe integer written by {@link WireWriter.uint}; larger values are malformed. */
  uint(what: string): number {
    this.need(8, what);
    const low = this.view.getUint32(this.offset, true);
    const high = this.view.getUint32(this.offset + 4, true);
    if (high > MAX_SAFE_HIGH_WORD) throw new PeerProtocolError(`${what} is beyond the safe integer range`);
    this.offset += 8;
    return high * TWO_POW_32 + low;
  }

  /** A uint64. */
  u64(what: string): bigint {
    this.need(8, what);
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** A u32 length, then that many bytes, copied out of the input. */
  bytes(what: string): Uint8Array {
    const length = this.u32(`${what} length`);
    this.need(length, what);
    const value = this.bytesView.slice(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A u32 count of items of at least `minItemBytes` each, checked against the input before use. */
  count(what: string, minItemBytes: number): number {
    const value = this.u32(`${what} count`);
    this.need(value * minItemBytes, what);
    return value;
  }

  /** The rest of the input as a view (no copy). */
  rest(): Uint8Array {
    const value = this.bytesView.subarray(this.offset);
    this.offset = this.bytesView.length;
    return value;
  }
}
