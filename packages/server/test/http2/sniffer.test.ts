import { describe, expect, it } from "vitest";
import {
  EMPTY_SETTINGS_FRAME,
  FirstRequestSniffer,
  type SniffDecision,
} from "../../src/http2/first-request-sniffer.js";
import { CONNECTION_PREFACE } from "../../src/http2/frames.js";
import { frame, indexed, literalIndexed } from "./wire.js";

const HEADERS = 0x1;
const PING = 0x6;
const SETTINGS = 0x4;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;

/** What a gRPC client sends before it has heard the server: preface, SETTINGS, WINDOW_UPDATE. */
const OPENING = Buffer.concat([
  CONNECTION_PREFACE,
  frame(SETTINGS, 0, 0, Buffer.from([0, 2, 0, 0, 0, 0])),
  frame(WINDOW_UPDATE, 0, 0, Buffer.from([0, 0x0f, 0, 0])),
]);
const SETTINGS_ACK = frame(SETTINGS, ACK, 0, Buffer.alloc(0));

/** A request header block with the given `:authority`. */
function requestBlock(authority: string): Buffer {
  return Buffer.concat([
    indexed(3), // :method POST
    indexed(6), // :scheme http
    literalIndexed(4, "/etcdserverpb.KV/Put"),
    literalIndexed(1, authority),
    literalIndexed(31, "application/grpc"),
  ]);
}

/**
 * Feeds `opening` then (after the sniffer asked for and "got" our SETTINGS) `answer`, each cut at
 * `cuts` (positions in the concatenation), as the listener's driver does; returns the decision.
 */
function run(opening: Buffer, answer: Buffer, cuts: number[]): SniffDecision | undefined {
  const sniffer = new FirstRequestSniffer();
  const input = Buffer.concat([opening, answer]);
  const ends = [...new Set([...cuts, opening.length, input.length])].sort((a, b) => a - b);
  let start = 0;
  for (const end of ends) {
    const decision = sniffer.write(input.subarray(start, end));
    start = end;
    if (decision !== undefined) return decision;
    if (sniffer.wantsServerSettings) sniffer.serverSettingsSent();
  }
  return undefined;
}

/** One cut at every position of the client's opening, and byte at a time throughout. */
function chunkings(opening: Buffer, answer: Buffer): number[][] {
  const ways: number[][] = [[]];
  for (let cut = 1; cut < opening.length; cut++) ways.push([cut]);
  ways.push(Array.from({ length: opening.length + answer.length }, (_, i) => i + 1));
  return ways;
}

describe("FirstRequestSniffer", () => {
  it("sends a gRPC client native once it acknowledged our SETTINGS, with that ACK cut out", () => {
    const block = frame(HEADERS, END_HEADERS, 1, requestBlock("127.0.0.1:2379"));
    const answer = Buffer.concat([SETTINGS_ACK, block]);
    for (const cuts of chunkings(OPENING, answer)) {
      expect(run(OPENING, answer, cuts)).toEqual({ route: "native", bytes: Buffer.concat([OPENING, block]) });
    }
  });

  it("sends grpc-go's http:// authority to the repair, also when it is split over CONTINUATION", () => {
    const headers = requestBlock("http://127.0.0.1:2379");
    const padded = Buffer.concat([Buffer.from([2]), headers.subarray(0, 5), Buffer.alloc(2)]);
    const blocks = [
      frame(HEADERS, END_HEADERS, 1, headers),
      Buffer.concat([
        frame(HEADERS, PADDED, 1, padded),
        frame(CONTINUATION, END_HEADERS, 1, headers.subarray(5)),
      ]),
    ];
    for (const block of blocks) {
      const answer = Buffer.concat([frame(PING, 0, 0, Buffer.alloc(8)), SETTINGS_ACK, block]);
      for (const cuts of chunkings(OPENING, answer)) {
        const bytes = Buffer.concat([OPENING, frame(PING, 0, 0, Buffer.alloc(8)), block]);
        expect(run(OPENING, answer, cuts)).toEqual({ route: "repair", bytes });
      }
    }
  });

  it("decides at once on a client that sends its request without waiting, and sends no SETTINGS", () => {
    const input = Buffer.concat([OPENING, frame(HEADERS, END_HEADERS, 1, requestBlock("localhost"))]);
    const sniffer = new FirstRequestSniffer();
    expect(sniffer.write(input)).toEqual({ route: "native", bytes: input });
  });

  it("waits for the acknowledgement when the request came first", () => {
    const sniffer = new FirstRequestSniffer();
    expect(sniffer.write(OPENING)).toBeUndefined();
    expect(sniffer.wantsServerSettings).toBe(true);
    sniffer.serverSettingsSent();
    expect(sniffer.wantsServerSettings).toBe(false);
    const block = frame(HEADERS, END_HEADERS, 1, requestBlock("localhost"));
    expect(sniffer.write(block)).toBeUndefined();
    expect(sniffer.acknowledged).toBe(false);
    const later = frame(PING, 0, 0, Buffer.alloc(8));
    expect(sniffer.write(Buffer.concat([later, SETTINGS_ACK]))).toEqual({
      route: "native",
      bytes: Buffer.concat([OPENING, block, later]),
    });
  });

  it("routes HTTP/1.1 on its first octet that differs from the preface", () => {
    expect(new FirstRequestSniffer().write(Buffer.from("GET /health HTTP/1.1\r\n"))?.route).toBe("http1");
    const sniffer = new FirstRequestSniffer();
    expect(sniffer.write(Buffer.from("P"))).toBeUndefined();
    expect(sniffer.write(Buffer.from("OST / HTTP/1.1\r\n"))).toEqual({
      route: "http1",
      bytes: Buffer.from("POST / HTTP/1.1\r\n"),
    });
    expect(sniffer.wantsServerSettings).toBe(false);
  });

  it("hands a bad preface to the HTTP/2 server and input it cannot follow to the repair", () => {
    const bad = Buffer.from("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n");
    expect(new FirstRequestSniffer().write(bad)?.route).toBe("native");
    const cases = [
      frame(HEADERS, END_HEADERS, 1, Buffer.from([0x80])), // HPACK index 0
      frame(CONTINUATION, END_HEADERS, 1, Buffer.alloc(4)), // no block open
      Buffer.concat([frame(HEADERS, 0, 1, Buffer.alloc(0)), frame(PING, 0, 0, Buffer.alloc(8))]),
      frame(HEADERS, END_HEADERS, 1, Buffer.alloc(16_385)), // above SETTINGS_MAX_FRAME_SIZE
    ];
    for (const input of cases) {
      expect(new FirstRequestSniffer().write(Buffer.concat([OPENING, input]))?.route).toBe("repair");
    }
  });

  it("stops buffering at its bound and gives up to the repair", () => {
    const sniffer = new FirstRequestSniffer({ maxHeaderBlockBytes: 1024 });
    expect(sniffer.write(OPENING)).toBeUndefined();
    sniffer.serverSettingsSent();
    const pings = Buffer.concat(Array.from({ length: 4000 }, () => frame(PING, 0, 0, Buffer.alloc(8))));
    expect(sniffer.write(pings.subarray(0, 60_000))).toBeUndefined();
    expect(sniffer.write(pings.subarray(60_000))?.route).toBe("repair");
    expect(new FirstRequestSniffer().giveUp().route).toBe("repair");
  });

  it("keeps a byte-at-a-time trickle linear up to its bound (no quadratic re-buffering)", () => {
    // 330 KB one octet per write: re-concatenating everything per chunk copies ~5e10 octets
    // (~20 s of CPU); linear buffering takes well under a second even on a loaded machine.
    const cpuBefore = process.cpuUsage();
    const sniffer = new FirstRequestSniffer();
    const pings = Buffer.concat(Array.from({ length: 20_000 }, () => frame(PING, 0, 0, Buffer.alloc(8))));
    const input = Buffer.concat([OPENING, pings]);
    let decision: SniffDecision | undefined;
    for (let i = 0; i < input.length && decision === undefined; i++) {
      decision = sniffer.write(input.subarray(i, i + 1));
      if (sniffer.wantsServerSettings) sniffer.serverSettingsSent();
    }
    const cpu = process.cpuUsage(cpuBefore);
    expect(decision?.route).toBe("repair");
    expect(decision?.bytes.equals(input.subarray(0, decision.bytes.length))).toBe(true);
    expect((cpu.user + cpu.system) / 1e6).toBeLessThan(5);
  });

  it("offers an empty SETTINGS frame as the server preface", () => {
    expect(EMPTY_SETTINGS_FRAME).toEqual(frame(SETTINGS, 0, 0, Buffer.alloc(0)));
  });
});
