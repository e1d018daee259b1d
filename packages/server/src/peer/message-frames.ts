import type { Message } from "@keyway/raft";
import { FRAME_HEADER_BYTES, FrameKind, writeFrameHeader } from "./frame.js";
import { encodedMessageSize, writeMessage } from "./message-codec.js";
import { WireWriter } from "./wire.js";

/** One outgoing `messages` frame and how many raft messages it holds. */
export interface MessageFrame {
  readonly frame: Buffer;
  readonly count: number;
}

/**
 * Encodes messages for one peer as `messages` frames: one frame (one allocation, one write) unless
 * the batch exceeds `maxFrameBytes`, then as few frames as fit. A single message larger than
 * `maxFrameBytes` throws RangeError: the receiver would refuse it.
 */
export function encodeMessageFrames(messages: readonly Message[], maxFrameBytes: number): MessageFrame[] {
  const sizes = messages.map(encodedMessageSize);
  const frames: MessageFrame[] = [];
  let start = 0;
  while (start < messages.length) {
    let end = start;
    let payloadBytes = 0;
    while (end < messages.length && payloadBytes + sizes[end]! <= maxFrameBytes)
      payloadBytes += sizes[end++]!;
    if (end === start) {
      throw new RangeError(
        `a ${messages[start]!.type} of ${sizes[start]} bytes exceeds the ${maxFrameBytes}-byte frame limit`,
      );
    }
    const writer = new WireWriter(Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes), FRAME_HEADER_BYTES);
    writeFrameHeader(writer.buffer, FrameKind.messages, payloadBytes);
    for (let i = start; i < end; i++) writeMessage(writer, messages[i]!);
    frames.push({ frame: writer.buffer, count: end - start });
    start = end;
  }
  return frames;
}
