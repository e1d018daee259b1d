import { SeededRng } from "@keyway/raft";
import { describe, expect, it } from "vitest";
import { PeerProtocolError } from "../../src/peer/errors.js";
import { FRAME_HEADER_BYTES, FrameKind, FrameReader } from "../../src/peer/frame.js";
import {
  decodeMessage,
  decodeMessages,
  encodedMessageSize,
  encodeMessage,
} from "../../src/peer/message-codec.js";
import { encodeMessageFrames } from "../../src/peer/message-frames.js";
import { msg, randomMessage } from "./random-message.js";

/** decode must either succeed or throw the typed error: never a RangeError, TypeError, ... */
function decodeOrTypedError(bytes: Uint8Array): "ok" | "rejected" {
  try {
    decodeMessage(bytes);
    return "ok";
  } catch (error) {
    if (error instanceof PeerProtocolError) return "rejected";
    throw error;
  }
}

describe("peer message codec", () => {
  it("round-trips 2000 seeded random messages exactly", () => {
    const rng = new SeededRng(20261127);
    for (let i = 0; i < 2000; i++) {
      const original = randomMessage(rng);
      const encoded = encodeMessage(original);
      expect(encoded.length).toBe(encodedMessageSize(original));
      expect(decodeMessage(encoded), `message ${i}`).toEqual(original);
    }
  });

  it("decodes a batch back in order, and keeps no view of the input", () => {
    const rng = new SeededRng(7);
    const batch = Array.from({ length: 50 }, () => randomMessage(rng));
    const [frame] = encodeMessageFrames(batch, 64 * 1024 * 1024);
    const payload = frame!.frame.subarray(FRAME_HEADER_BYTES);
    const decoded = decodeMessages(payload);
    expect(decoded).toEqual(batch);
    payload.fill(0xee);
    expect(decoded).toEqual(batch);
  });

  it("splits a batch over the frame limit into frames that each fit", () => {
    const rng = new SeededRng(11);
    const batch = Array.from({ length: 200 }, () => randomMessage(rng));
    const frames = encodeMessageFrames(batch, 4096);
    expect(frames.length).toBeGreaterThan(1);
    const reader = new FrameReader(4096);
    const received = frames.flatMap(({ frame }) => reader.push(frame));
    expect(received.every((f) => f.kind === FrameKind.messages && f.payload.length <= 4096)).toBe(true);
    expect(received.flatMap((f) => decodeMessages(f.payload))).toEqual(batch);
    expect(frames.reduce((sum, f) => sum + f.count, 0)).toBe(200);
    const huge = msg({
      type: "MsgApp",
      to: 2n,
      from: 1n,
      entries: [{ term: 1, index: 1, type: "normal", data: new Uint8Array(5000) }],
    });
    expect(() => encodeMessageFrames([huge], 4096)).toThrow(RangeError);
  });

  it("frames survive being cut at every byte", () => {
    const rng = new SeededRng(3);
    const batch = Array.from({ length: 5 }, () => randomMessage(rng));
    const frames = encodeMessageFrames(batch, 1 << 20);
    const stream = Buffer.concat([...frames.map((f) => f.frame), ...frames.map((f) => f.frame)]);
    const reader = new FrameReader(1 << 20);
    const received = [];
    for (let i = 0; i < stream.length; i++) received.push(...reader.push(stream.subarray(i, i + 1)));
    expect(received.flatMap((f) => decodeMessages(f.payload))).toEqual([...batch, ...batch]);
  });

  it("refuses a frame longer than the limit before buffering it", () => {
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32LE(1025, 0);
    header[4] = FrameKind.messages;
    expect(() => new FrameReader(1024).push(header)).toThrow(PeerProtocolError);
  });

  it("rejects every truncation with PeerProtocolError", () => {
    const rng = new SeededRng(5);
    for (let n = 0; n < 30; n++) {
      const encoded = encodeMessage(randomMessage(rng));
      for (let cut = 0; cut < encoded.length; cut++) {
        expect(() => decodeMessage(encoded.subarray(0, cut))).toThrow(PeerProtocolError);
      }
    }
  });

  it("never throws anything but PeerProtocolError on corrupted input", () => {
    const rng = new SeededRng(99);
    let rejected = 0;
    for (let n = 0; n < 3000; n++) {
      const encoded = Buffer.from(encodeMessage(randomMessage(rng)));
      for (let flips = 1 + rng.int(4); flips > 0; flips--) encoded[rng.int(encoded.length)] = rng.int(256);
      if (decodeOrTypedError(encoded) === "rejected") rejected++;
    }
    // Flipped type codes, flags, lengths and counts must be caught, not only tolerated.
    expect(rejected).toBeGreaterThan(300);
  });

  it("names what is wrong: unknown type, huge count, unsafe integer, trailing bytes", () => {
    const base = encodeMessage(msg({ type: "MsgApp", to: 2n, from: 1n, term: 3 }));
    const unknownType = Buffer.from(base);
    unknownType[0] = 200;
    expect(() => decodeMessage(unknownType)).toThrow(/unknown message type code 200/);
    const hugeCount = Buffer.from(base);
    hugeCount.writeUInt32LE(0xffff_ffff, base.length - 4);
    expect(() => decodeMessage(hugeCount)).toThrow(/truncated input: entries/);
    const unsafeTerm = Buffer.from(base);
    unsafeTerm.writeUInt32LE(0x20_0000, 18 + 4);
    expect(() => decodeMessage(unsafeTerm)).toThrow(/term is beyond the safe integer range/);
    expect(() => decodeMessage(Buffer.concat([base, Buffer.from([0])]))).toThrow(/1 trailing bytes/);
  });

  it("refuses to encode what the wire cannot carry", () => {
    expect(() => encodeMessage(msg({ type: "MsgApp", to: 2n, from: 1n, term: -1 }))).toThrow(RangeError);
    expect(() => encodeMessage(msg({ type: "MsgApp", to: 2n, from: 1n, index: 1.5 }))).toThrow(RangeError);
    expect(() => encodeMessage(msg({ type: "MsgApp", to: 1n << 64n, from: 1n }))).toThrow(RangeError);
  });
});
