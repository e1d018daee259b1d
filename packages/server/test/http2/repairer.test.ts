import { describe, expect, it } from "vitest";
import { repairedAuthority } from "../../src/http2/authority.js";
import { AuthorityRepairer, type AuthorityRepairerOptions } from "../../src/http2/authority-repairer.js";
import { Http2InputError } from "../../src/http2/errors.js";
import { CONNECTION_PREFACE, headerBlockFrames } from "../../src/http2/frames.js";
import { frame, huffmanEncode, indexed, literalIndexed, parseFrames, serverView } from "./wire.js";

const HEADERS = 0x1;
const CONTINUATION = 0x9;
const DATA = 0x0;
const SETTINGS = 0x4;
const WINDOW_UPDATE = 0x8;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

/** Feeds `input` cut at `cuts` and returns everything emitted, plus the repairer. */
function run(input: Buffer, cuts: number[] = [], options: AuthorityRepairerOptions = {}) {
  const out: Buffer[] = [];
  const repairer = new AuthorityRepairer((chunk) => out.push(Buffer.from(chunk)), options);
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    repairer.write(input.subarray(start, cut));
    start = cut;
  }
  return { output: Buffer.concat(out), chunks: out.length, repairer };
}

/** Every way of cutting `input` in two, and one byte at a time. */
function chunkings(input: Buffer): number[][] {
  const ways: number[][] = [[]];
  for (let cut = 1; cut < input.length; cut++) ways.push([cut]);
  ways.push(Array.from({ length: input.length - 1 }, (_, i) => i + 1));
  return ways;
}

/** Request headers the way grpc-go encodes them: the first block indexes, later ones refer back. */
function grpcGoRequests(authority: string): Buffer {
  const first = Buffer.concat([
    indexed(3), // :method POST
    indexed(6), // :scheme http
    literalIndexed(4, "/etcdserverpb.Maintenance/Status"), // -> index 63 after the next insert
    literalIndexed(1, authority), // -> index 62
    literalIndexed(31, "application/grpc"),
  ]);
  const second = Buffer.concat([indexed(3), indexed(6), indexed(64), indexed(63), indexed(62)]);
  const payload = Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]);
  // The second block comes padded, with priority, and split over a CONTINUATION frame.
  const padded = Buffer.concat([
    Buffer.from([3]),
    Buffer.from([0, 0, 0, 0, 15]),
    second.subarray(0, 2),
    Buffer.alloc(3),
  ]);
  return Buffer.concat([
    CONNECTION_PREFACE,
    frame(SETTINGS, 0, 0, Buffer.from([0, 2, 0, 0, 0, 0])),
    frame(WINDOW_UPDATE, 0, 0, Buffer.from([0, 0x0f, 0, 0])),
    frame(HEADERS, END_HEADERS, 1, first),
    frame(DATA, END_STREAM, 1, payload),
    frame(HEADERS, PADDED | PRIORITY, 3, padded),
    frame(CONTINUATION, END_HEADERS, 3, second.subarray(2)),
    frame(DATA, END_STREAM, 3, payload),
  ]);
}

const expectedHeaders = (authority: string) => [
  [":method", "POST"],
  [":scheme", "http"],
  [":path", "/etcdserverpb.Maintenance/Status"],
  [":authority", authority],
  ["content-type", "application/grpc"],
];

describe("repairedAuthority", () => {
  it.each([
    ["http://127.0.0.1:2379", "127.0.0.1:2379"],
    ["https://[::1]:2379/", "[::1]:2379"],
    ["unix://sock/a/b", "sock"],
    ["127.0.0.1:2379", undefined],
    ["example.com", undefined],
  ])("%s -> %s", (input, repaired) => {
    expect(repairedAuthority(input)).toBe(repaired);
  });
});

describe("AuthorityRepairer", () => {
  it("passes a connection that needs no repair through byte for byte, however it is chunked", () => {
    const input = grpcGoRequests("127.0.0.1:2379");
    for (const cuts of chunkings(input)) {
      const { output, repairer } = run(input, cuts);
      expect(output.equals(input)).toBe(true);
      expect(repairer.reencoding).toBe(false);
    }
    // A chunk holding only whole pass-through frames goes out as the same buffer.
    const frames = Buffer.concat([CONNECTION_PREFACE, frame(DATA, 0, 1, Buffer.alloc(100))]);
    const out: Buffer[] = [];
    new AuthorityRepairer((chunk) => out.push(chunk)).write(frames);
    expect(out).toHaveLength(1);
    expect(out[0]!.buffer).toBe(frames.buffer);
  });

  it("repairs every block, including those that index the bad authority, however it is chunked", () => {
    const input = grpcGoRequests("http://127.0.0.1:2379");
    const want = [
      [1, expectedHeaders("127.0.0.1:2379")],
      [3, expectedHeaders("127.0.0.1:2379")],
    ];
    let first: Buffer | undefined;
    for (const cuts of chunkings(input)) {
      const { output, repairer } = run(input, cuts);
      first ??= output;
      expect(output.equals(first)).toBe(true);
      expect(repairer.repairs).toBe(2);
    }
    expect(serverView(first!)).toEqual(want);
    const frames = parseFrames(first!);
    expect(frames.map((f) => [f.type, f.flags, f.streamId])).toEqual([
      [SETTINGS, 0, 0],
      [WINDOW_UPDATE, 0, 0],
      [HEADERS, END_HEADERS, 1],
      [DATA, END_STREAM, 1],
      [HEADERS, PRIORITY | END_HEADERS, 3],
      [DATA, END_STREAM, 3],
    ]);
    expect(frames[4]!.payload.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 15]));
  });

  it("switches to re-encoding at the first bad block and keeps later blocks consistent", () => {
    const good = Buffer.concat([
      indexed(3),
      literalIndexed(1, "127.0.0.1:1"),
      literalIndexed(58, "grpc-go/1.26"),
    ]);
    const bad = Buffer.concat([indexed(3), literalIndexed(1, "http://127.0.0.1:1"), indexed(63)]);
    // After `bad`: 62 = http://127.0.0.1:1, 63 = user-agent, 64 = 127.0.0.1:1, indices the
    // server never had.
    const later = Buffer.concat([Buffer.from([0x3f, 0xe1, 0x1f]), indexed(62), indexed(64), indexed(63)]);
    const input = Buffer.concat([
      CONNECTION_PREFACE,
      frame(HEADERS, END_HEADERS | END_STREAM, 1, good),
      frame(HEADERS, END_HEADERS | END_STREAM, 3, bad),
      frame(HEADERS, END_HEADERS | END_STREAM, 5, later),
    ]);
    const { output, repairer } = run(input);
    const authority = [":authority", "127.0.0.1:1"];
    const agent = ["user-agent", "grpc-go/1.26"];
    expect(serverView(output)).toEqual([
      [1, [[":method", "POST"], authority, agent]],
      [3, [[":method", "POST"], authority, agent]],
      [5, [authority, authority, agent]],
    ]);
    expect(repairer.repairs).toBe(2);
    expect(
      output
        .subarray(0, CONNECTION_PREFACE.length + 9 + good.length)
        .equals(input.subarray(0, CONNECTION_PREFACE.length + 9 + good.length)),
    ).toBe(true);
  });

  it("splits a re-encoded block that outgrows the maximum frame size", () => {
    // 20 000 Huffman-coded "a"s fit one frame; sent raw after the repair they need two.
    const value = huffmanEncode("a".repeat(20_000));
    const block = Buffer.concat([
      literalIndexed(1, "http://h:1"),
      Buffer.from([0x40 | 0, 5]),
      Buffer.from("x-big"),
    ]);
    const length = Buffer.from([0xff, ...[value.length - 127].flatMap((n) => [(n % 128) | 0x80, n >> 7])]);
    const input = frames(frame(HEADERS, END_HEADERS | END_STREAM, 1, Buffer.concat([block, length, value])));
    expect(parseFrames(input)).toHaveLength(1);
    const { output } = run(input);
    const parsed = parseFrames(output);
    expect(parsed.map((f) => [f.type, f.flags, f.streamId])).toEqual([
      [HEADERS, END_STREAM, 1],
      [CONTINUATION, END_HEADERS, 1],
    ]);
    expect(parsed[0]!.length).toBe(16_384);
    expect(serverView(output)).toEqual([
      [
        1,
        [
          [":authority", "h:1"],
          ["x-big", "a".repeat(20_000)],
        ],
      ],
    ]);
  });

  it.each([
    ["a bad preface", Buffer.from("GET / HTTP/1.1\r\n\r\n")],
    [
      "a header block interrupted",
      frames(frame(HEADERS, 0, 1, indexed(2)), frame(DATA, 0, 1, Buffer.alloc(1))),
    ],
    [
      "a CONTINUATION on another stream",
      frames(frame(HEADERS, 0, 1, indexed(2)), frame(CONTINUATION, 4, 3, indexed(2))),
    ],
    ["a CONTINUATION with no block", frames(frame(CONTINUATION, END_HEADERS, 1, indexed(2)))],
    ["a PUSH_PROMISE", frames(frame(0x5, END_HEADERS, 1, Buffer.alloc(4)))],
    [
      "padding longer than the frame",
      frames(frame(HEADERS, END_HEADERS | PADDED, 1, Buffer.from([5, 0x82]))),
    ],
    ["priority in a short frame", frames(frame(HEADERS, END_HEADERS | PRIORITY, 1, Buffer.from([0, 0])))],
    ["a header frame above the maximum", frames(frame(HEADERS, END_HEADERS, 1, Buffer.alloc(16_385)))],
    ["bad HPACK", frames(frame(HEADERS, END_HEADERS, 1, indexed(0)))],
  ])("rejects %s", (_name, input) => {
    expect(() => run(input)).toThrow(Http2InputError);
  });

  it("bounds the buffered header block", () => {
    const input = frames(
      frame(HEADERS, 0, 1, Buffer.alloc(10_000)),
      frame(CONTINUATION, 0, 1, Buffer.alloc(10_000)),
    );
    expect(() => run(input, [], { maxHeaderBlockBytes: 15_000 })).toThrow(/header block too large/);
  });
});

describe("headerBlockFrames", () => {
  it("fills HEADERS (less the priority octets) then CONTINUATION frames up to the limit", () => {
    const block = Buffer.alloc(40_000, 7);
    const out = headerBlockFrames({
      streamId: 9,
      endStream: true,
      priority: Buffer.alloc(5, 1),
      block,
      maxFrameBytes: 16_384,
    });
    const parsed = parseFrames(Buffer.concat([CONNECTION_PREFACE, out]));
    expect(parsed.map((f) => [f.type, f.flags, f.streamId, f.length])).toEqual([
      [HEADERS, END_STREAM | PRIORITY, 9, 16_384],
      [CONTINUATION, 0, 9, 16_384],
      [CONTINUATION, END_HEADERS, 9, 40_000 - 16_379 - 16_384],
    ]);
    const empty = headerBlockFrames({
      streamId: 1,
      endStream: false,
      priority: undefined,
      block: Buffer.alloc(0),
      maxFrameBytes: 16_384,
    });
    expect(empty).toEqual(Buffer.from([0, 0, 0, HEADERS, END_HEADERS, 0, 0, 0, 1]));
  });
});

function frames(...parts: Buffer[]): Buffer {
  return Buffer.concat([CONNECTION_PREFACE, ...parts]);
}
