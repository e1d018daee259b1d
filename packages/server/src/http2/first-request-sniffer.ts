import { SCHEME_AUTHORITY } from "./authority.js";
import type { AuthorityRepairerOptions } from "./authority-repairer.js";
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  FrameFlag,
  FrameType,
  parseHeadersPayload,
} from "./frames.js";
import { HpackDecoder } from "./hpack-decoder.js";

/**
 * Where a sniffed connection goes: `http1` (no HTTP/2 preface: /health, /metrics), `native` (the
 * socket itself to the HTTP/2 server), `repair` (through the authority-repairing stream).
 */
export type SniffRoute = "http1" | "native" | "repair";

/** What a {@link FirstRequestSniffer} decided, with the octets to put back on the socket. */
export interface SniffDecision {
  route: SniffRoute;
  /** Everything read so far, minus the client's acknowledgement of the sniffer's own SETTINGS. */
  bytes: Buffer;
}

/** A SETTINGS frame with no parameters: the server preface grpc-go and grpc-js wait for. */
export const EMPTY_SETTINGS_FRAME: Buffer = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);

const SETTINGS = 0x4;
const ACK = 0x1;
const HTTP2_START = CONNECTION_PREFACE.subarray(0, 4);

/**
 * Reads the start of one client connection and decides, as etcd's cmux does, who serves it: an
 * HTTP/1.1 request goes to `http1`; an HTTP/2 connection is held until its first header block is
 * complete, then goes `repair` if that block's `:authority` carries a URL scheme (grpc-go dialled
 * with an `http://` endpoint: its authority is fixed per connection, so the first block speaks for
 * all) and `native` otherwise. Input it cannot follow (bad framing or HPACK, a header frame above
 * the limits, more than the buffer bound before a decision) goes `repair`, whose full checks then
 * reject it exactly as before.
 *
 * grpc-go and grpc-js send no request before the server's SETTINGS, so once the client preface
 * is in and no decision is possible yet, the caller sends {@link EMPTY_SETTINGS_FRAME} (see
 * {@link wantsServerSettings}); the client's acknowledgement of it is then awaited and cut from the
 * bytes handed on, because the real HTTP/2 server would reject an ACK of SETTINGS it never sent.
 */
export class FirstRequestSniffer {
  private readonly maxFrameBytes: number;
  private readonly maxHeaderBlockBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly decoder: HpackDecoder;
  /** What was read, in `storage[0, length)`; storage doubles as it fills (a trickle stays O(n)). */
  private storage: Buffer = Buffer.alloc(0);
  private length = 0;
  /** Start of the first frame not yet parsed (after the preface). */
  private parsed = 0;
  private settingsSent = false;
  /** Where the client's ACK of our SETTINGS lies in `buffered`, once seen. */
  private ack: number | undefined;
  private fragments: Buffer[] = [];
  private blockBytes = 0;
  private firstBlockRoute: "native" | "repair" | undefined;

  constructor(options: AuthorityRepairerOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxHeaderBlockBytes = options.maxHeaderBlockBytes ?? 256 * 1024;
    this.maxBufferedBytes = this.maxHeaderBlockBytes + 64 * 1024;
    this.decoder = new HpackDecoder(options);
  }

  /**
   * True once the client preface is in but no decision is made and no SETTINGS was sent: the
   * caller should send {@link EMPTY_SETTINGS_FRAME} and call {@link serverSettingsSent}.
   */
  get wantsServerSettings(): boolean {
    return !this.settingsSent && this.parsed > 0;
  }

  /** Whether the whole client connection preface is in. */
  get prefaceComplete(): boolean {
    return this.parsed > 0;
  }

  /** Records that {@link EMPTY_SETTINGS_FRAME} went to the client. */
  serverSettingsSent(): void {
    this.settingsSent = true;
  }

  /** Whether the client acknowledged our SETTINGS (or none was sent). */
  get acknowledged(): boolean {
    return !this.settingsSent || this.ack !== undefined;
  }

  /** Takes the next chunk from the client; returns the decision once there is one. */
  write(chunk: Buffer): SniffDecision | undefined {
    this.append(chunk);
    if (this.parsed === 0) {
      const head = this.buffered.subarray(0, HTTP2_START.length);
      if (!HTTP2_START.subarray(0, head.length).equals(head)) return this.decide("http1");
      if (this.buffered.length < CONNECTION_PREFACE.length) return undefined;
      // A bad preface goes to the HTTP/2 server, which answers it with GOAWAY.
      if (!this.buffered.subarray(0, CONNECTION_PREFACE.length).equals(CONNECTION_PREFACE)) {
        return this.decide("native");
      }
      this.parsed = CONNECTION_PREFACE.length;
    }
    try {
      this.parseFrames();
    } catch {
      return this.decide("repair");
    }
    if (this.firstBlockRoute !== undefined && this.acknowledged) return this.decide(this.firstBlockRoute);
    if (this.buffered.length > this.maxBufferedBytes) return this.decide("repair");
    return undefined;
  }

  /** The octets read so far. */
  private get buffered(): Buffer {
    return this.storage.subarray(0, this.length);
  }

  private append(chunk: Buffer): void {
    if (this.length + chunk.length > this.storage.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.storage.length, this.length + chunk.length, 1024));
      this.storage.copy(grown, 0, 0, this.length);
      this.storage = grown;
    }
    chunk.copy(this.storage, this.length);
    this.length += chunk.length;
  }

  /** The decision when the wait is over without one: the repairing stream serves any client. */
  giveUp(): SniffDecision {
    return this.decide("repair");
  }

  private decide(route: SniffRoute): SniffDecision {
    const at = this.ack;
    const bytes =
      at === undefined
        ? this.buffered
        : Buffer.concat([this.buffered.subarray(0, at), this.buffered.subarray(at + FRAME_HEADER_BYTES)]);
    return { route, bytes };
  }

  /** Parses every complete frame buffered; throws on input the sniffer cannot follow. */
  private parseFrames(): void {
    const buf = this.buffered;
    while (buf.length - this.parsed >= FRAME_HEADER_BYTES) {
      const start = this.parsed;
      const length = buf.readUIntBE(start, 3);
      const end = start + FRAME_HEADER_BYTES + length;
      if (end > buf.length) return;
      this.parsed = end;
      this.frame(buf[start + 3]!, buf[start + 4]!, start, buf.subarray(start + FRAME_HEADER_BYTES, end));
    }
  }

  private frame(type: number, flags: number, start: number, payload: Buffer): void {
    if (
      type === SETTINGS &&
      flags & ACK &&
      payload.length === 0 &&
      this.settingsSent &&
      this.ack === undefined
    ) {
      this.ack = start;
      return;
    }
    const inBlock = this.fragments.length > 0;
    if (this.firstBlockRoute !== undefined) return;
    if (type !== FrameType.HEADERS && type !== FrameType.CONTINUATION) {
      if (inBlock) throw new Error("header block interrupted");
      return;
    }
    if (payload.length > this.maxFrameBytes) throw new Error("header frame too large");
    if ((type === FrameType.CONTINUATION) !== inBlock) throw new Error("misplaced header frame");
    const fragment = type === FrameType.HEADERS ? parseHeadersPayload(flags, payload).fragment : payload;
    this.fragments.push(fragment);
    this.blockBytes += fragment.length;
    if (this.blockBytes > this.maxHeaderBlockBytes) throw new Error("header block too large");
    if ((flags & FrameFlag.END_HEADERS) === 0) return;
    const block = this.fragments.length === 1 ? fragment : Buffer.concat(this.fragments);
    this.fragments = [];
    const watched = this.decoder.decodeIfWatched(block, SCHEME_AUTHORITY);
    this.firstBlockRoute = watched === undefined ? "native" : "repair";
  }
}
