import type { Message } from "@keyway/raft";
import { PeerProtocolError } from "./errors.js";
import { type Frame, FrameKind } from "./frame.js";
import { readMessage } from "./message-codec.js";
import { WireReader } from "./wire.js";

/**
 * Reassembles one MsgSnap from a snapshot connection: a head frame (data length + the message
 * without its data), then data chunks copied into one buffer of the announced size. The size is
 * checked against the limit before that buffer is allocated.
 */
export class SnapshotReceiver {
  private head: Message | undefined;
  private data: Uint8Array | undefined;
  private received = 0;

  constructor(private readonly maxSnapshotBytes: number) {}

  /** Takes the next frame; returns the complete message once the last byte has arrived. */
  push(frame: Frame): Message | undefined {
    if (this.head === undefined) {
      if (frame.kind !== FrameKind.snapshotHead)
        throw new PeerProtocolError("expected a snapshot head frame");
      return this.start(frame.payload);
    }
    if (frame.kind !== FrameKind.snapshotChunk)
      throw new PeerProtocolError(`unexpected frame kind ${frame.kind}`);
    const data = this.data!;
    if (this.received + frame.payload.length > data.length) {
      throw new PeerProtocolError("snapshot data exceeds its announced length");
    }
    data.set(frame.payload, this.received);
    this.received += frame.payload.length;
    return this.completed();
  }

  private start(payload: Uint8Array): Message | undefined {
    const reader = new WireReader(payload);
    const length = reader.uint("snapshot data length");
    if (length > this.maxSnapshotBytes) {
      throw new PeerProtocolError(
        `snapshot of ${length} bytes exceeds the limit of ${this.maxSnapshotBytes}`,
      );
    }
    const head = readMessage(reader);
    if (reader.remaining !== 0) throw new PeerProtocolError("trailing bytes after the snapshot head");
    if (head.type !== "MsgSnap" || head.snapshot === undefined || head.snapshot.data.length !== 0) {
      throw new PeerProtocolError("snapshot head is not a MsgSnap without data");
    }
    this.head = head;
    this.data = new Uint8Array(length);
    return this.completed();
  }

  private completed(): Message | undefined {
    const head = this.head!;
    const data = this.data!;
    if (this.received < data.length) return undefined;
    return { ...head, snapshot: { ...head.snapshot!, data } };
  }
}
