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

/** A header to look for while decoding: {@link HpackDecoder.decodeIfWatched}. */
export interface FieldWatch {
  name: string;
  matches(value: string): boolean;
}

/** Limits of an {@link HpackDecoder}. */
export interface HpackDecoderOptions {
  /**
   * SETTINGS_HEADER_TABLE_SIZE the server advertised, in octets: the largest dynamic table the
   * client's encoder may use. Default 4096 (the HTTP/2 default, which grpc-js keeps).
   */
  maxTableBytes?: number;
  /**
   * Largest decoded header list accepted, in RFC 7541 octets (name + value + 32 per field).
   * Default 1 MiB.
   */
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
  private entries: (readonly [string, string])[] = [];
  private tableBytes = 0;
  private readonly maxTableBytes: number;
  /** Current table capacity: starts at the setting, lowered or raised by size updates. */
  private capacityBytes: number;
  private readonly maxHeaderListBytes: number;
  private block: Buffer = Buffer.alloc(0);
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
  decode(block: Buffer): HeaderField[] {
    const fields: HeaderField[] = [];
    this.run(block, fields, undefined);
    return fields;
  }

  /**
   * The fast path for blocks that usually pass through unchanged: returns undefined, with the
   * dynamic table updated exactly as {@link decode} would, unless a field named `watch.name` has a
   * value `watch.matches` accepts; then returns the full field list as {@link decode} would. Builds
   * no list and no strings beyond the table's and the watched ones; the literals it skips are
   * checked no further than their lengths (the server decodes them itself).
   */
  decodeIfWatched(block: Buffer, watch: FieldWatch): HeaderField[] | undefined {
    const entries = this.entries.slice();
    const { tableBytes, capacityBytes } = this;
    if (!this.run(block, undefined, watch)) return undefined;
    this.entries = entries;
    this.tableBytes = tableBytes;
    this.capacityBytes = capacityBytes;
    return this.decode(block);
  }

  /**
   * Decodes `block`, appending to `fields` if given. With a `watch`, stops and returns true at
   * the first watched field that matches (the table is then partly updated).
   */
  private run(block: Buffer, fields: HeaderField[] | undefined, watch: FieldWatch | undefined): boolean {
    this.block = block;
    this.pos = 0;
    let listBytes = 0;
    let sawField = false;
    while (this.pos < block.length) {
      const first = block[this.pos]!;
      if ((first & 0xe0) === 0x20) {
        // RFC 7541 §4.2: size updates come before the first field of a block.
        if (sawField) throw new Http2InputError("HPACK: table size update after a header field");
        this.resize(this.integer(5));
        continue;
      }
      sawField = true;
      let name: string;
      let value: string;
      let sensitive = false;
      if (first & 0x80) {
        [name, value] = this.lookup(this.integer(7));
      } else {
        const incremental = (first & 0xc0) === 0x40;
        const index = this.integer(incremental ? 6 : 4);
        name = index === 0 ? this.string() : this.lookup(index)[0];
        // An empty placeholder stands for a value no one will read.
        value =
          fields !== undefined || incremental || name === watch?.name ? this.string() : this.skipString();
        if (incremental) this.insert(name, value);
        sensitive = (first & 0xf0) === 0x10;
      }
      if (watch !== undefined && name === watch.name && watch.matches(value)) return true;
      if (fields === undefined) continue;
      listBytes += name.length + value.length + ENTRY_OVERHEAD;
      if (listBytes > this.maxHeaderListBytes) throw new Http2InputError("HPACK: header list too large");
      fields.push({ name, value, sensitive });
    }
    return false;
  }

  private lookup(index: number): readonly [string, string] {
    if (index === 0) throw new Http2InputError("HPACK: index 0");
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
    const start = this.stringStart();
    return huffman
      ? huffmanDecode(this.block.subarray(start, this.pos))
      : this.block.toString("latin1", start, this.pos);
  }

  /** Steps over a string literal; returns "" in its place. */
  private skipString(): string {
    this.stringStart();
    return "";
  }

  /** Reads a string literal's length and moves past its octets; returns where they start. */
  private stringStart(): number {
    const length = this.integer(7);
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.block.length) throw new Http2InputError("HPACK: string runs past the block");
    return start;
  }

  private octet(): number {
    const octet = this.block[this.pos++];
    if (octet === undefined) throw new Http2InputError("HPACK: block ends inside a representation");
    return octet;
  }
}
