import { Http2InputError } from "./errors.js";
import { huffmanDecode } from "./huffman.js";
import { STATIC_TABLE } from "./static-table.js";

/** One decoded header field. Names and values are latin1 strings: one char per octet, lossless. */
export interface HeaderField {
  name: string;
  value: string;
  /** Sent as "literal never indexed" (RFC 7541 §6.2.3): must stay unindexed when re-encoded. */
  sensitive: boolean;
}

/** Limits of an {@link HpackDecoder}. */
export interface HpackDecoderOptions {
  /**
   * SETTINGS_HEADER_TABLE_SIZE the server advertised, in octets: the largest dynamic table the
   * client's encoder may use. Default 4096 (the HTTP/2 default, which grpc-js keeps).
   */
  maxTableBytes?: number;
  /** Largest decoded header list accepted, in RFC 7541 octets (name + value + 32 per field). Default 1 MiB. */
  maxHeaderListBytes?: number;
}

/** RFC 7541 §4.1: each dynamic-table entry costs its name and value octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** Integers above this are rejected: no legitimate length or index comes near it. */
const MAX_INTEGER = 2 ** 28;

/**
 * An HPACK decoder (RFC 7541) that mirrors one client encoder: static table, dynamic table with
 * size updates and eviction, Huffman strings, every representation. Decoding a block updates the
 * dynamic table exactly as the server's decoder would. Malformed input throws
 * {@link Http2InputError}; the decoder is then unusable, as the connection must end.
 */
export class HpackDecoder {
  /** Dynamic table, oldest entry first (so HPACK index 62 is the last element). */
  private readonly entries: (readonly [string, string])[] = [];
  private tableBytes = 0;
  private readonly maxTableBytes: number;
  /** Current table capacity: starts at the setting, lowered or raised by size updates. */
  private capacityBytes: number;
  private readonly maxHeaderListBytes: number;
  private block: Uint8Array = Buffer.alloc(0);
  private pos = 0;

  constructor(options: HpackDecoderOptions = {}) {
    this.maxTableBytes = options.maxTableBytes ?? 4096;
    this.capacityBytes = this.maxTableBytes;
    this.maxHeaderListBytes = options.maxHeaderListBytes ?? 1024 * 1024;
  }

  /** The dynamic table, newest entry first (HPACK index 62 onwards); for tests and diagnostics. */
  get dynamicTable(): (readonly [string, string])[] {
    return [...this.entries].reverse();
  }

  /** The dynamic table's size in RFC 7541 octets. */
  get dynamicTableBytes(): number {
    return this.tableBytes;
  }

  /** Decodes one complete header block (all HEADERS + CONTINUATION fragments joined). */
  decode(block: Uint8Array): HeaderField[] {
    this.block = block;
    this.pos = 0;
    const fields: HeaderField[] = [];
    let listBytes = 0;
    while (this.pos < block.length) {
      const first = block[this.pos]!;
      if ((first & 0xe0) === 0x20) {
        // RFC 7541 §4.2: size updates come before the first field of a block.
        if (fields.length > 0) throw new Http2InputError("HPACK: table size update after a header field");
        this.resize(this.integer(5));
        continue;
      }
      const field = this.field(first);
      listBytes += field.name.length + field.value.length + ENTRY_OVERHEAD;
      if (listBytes > this.maxHeaderListBytes) throw new Http2InputError("HPACK: header list too large");
      fields.push(field);
    }
    return fields;
  }

  private field(first: number): HeaderField {
    if (first & 0x80) {
      const index = this.integer(7);
      if (index === 0) throw new Http2InputError("HPACK: index 0");
      const [name, value] = this.lookup(index);
      return { name, value, sensitive: false };
    }
    const incremental = (first & 0xc0) === 0x40;
    const index = this.integer(incremental ? 6 : 4);
    const name = index === 0 ? this.string() : this.lookup(index)[0];
    const value = this.string();
    if (incremental) this.insert(name, value);
    return { name, value, sensitive: (first & 0xf0) === 0x10 };
  }

  private lookup(index: number): readonly [string, string] {
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const entry = this.entries[this.entries.length - (index - STATIC_TABLE.length)];
    if (entry === undefined) throw new Http2InputError(`HPACK: index ${index} beyond the tables`);
    return entry;
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    this.evictTo(this.capacityBytes - size);
    // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
    if (size > this.capacityBytes) return;
    this.entries.push([name, value]);
    this.tableBytes += size;
  }

  private resize(capacityBytes: number): void {
    if (capacityBytes > this.maxTableBytes) {
      throw new Http2InputError(`HPACK: table size ${capacityBytes} above the setting ${this.maxTableBytes}`);
    }
    this.capacityBytes = capacityBytes;
    this.evictTo(capacityBytes);
  }

  /** Drops the oldest entries until the table holds at most `limitBytes` (which may be negative). */
  private evictTo(limitBytes: number): void {
    let dropped = 0;
    while (this.tableBytes > limitBytes && dropped < this.entries.length) {
      const [name, value] = this.entries[dropped++]!;
      this.tableBytes -= name.length + value.length + ENTRY_OVERHEAD;
    }
    if (dropped > 0) this.entries.splice(0, dropped);
  }

  /** An integer with an N-bit prefix (RFC 7541 §5.1), starting at the current octet. */
  private integer(prefixBits: number): number {
    const mask = (1 << prefixBits) - 1;
    let value = this.octet() & mask;
    if (value < mask) return value;
    let shift = 0;
    let octet: number;
    do {
      octet = this.octet();
      value += (octet & 0x7f) * 2 ** shift;
      shift += 7;
      if (value > MAX_INTEGER) throw new Http2InputError("HPACK: integer too large");
    } while (octet & 0x80);
    return value;
  }

  /** A string literal (RFC 7541 §5.2), raw or Huffman-coded. */
  private string(): string {
    const huffman = (this.block[this.pos] ?? 0) & 0x80;
    const length = this.integer(7);
    const end = this.pos + length;
    if (end > this.block.length) throw new Http2InputError("HPACK: string runs past the block");
    const bytes = this.block.subarray(this.pos, end);
    this.pos = end;
    return huffman
      ? huffmanDecode(bytes)
      : Buffer.from(bytes.buffer, bytes.byteOffset, length).toString("latin1");
  }

  private octet(): number {
    const octet = this.block[this.pos++];
    if (octet === undefined) throw new Http2InputError("HPACK: block ends inside a representation");
    return octet;
  }
}
