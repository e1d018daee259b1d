import type { Entry, Message, SeededRng } from "@keyway/raft";
import { MESSAGE_TYPES } from "../../src/peer/message-codec.js";

/** A uint64 over the whole range, edges included. */
export function randomId(rng: SeededRng): bigint {
  if (rng.chance(0.1)) return rng.chance(0.5) ? 0n : (1n << 64n) - 1n;
  return (BigInt(rng.next32()) << 32n) | BigInt(rng.next32());
}

/** A non-negative safe integer: small ones mostly, the edges sometimes. */
export function randomUint(rng: SeededRng): number {
  if (rng.chance(0.1)) return rng.chance(0.5) ? 0 : Number.MAX_SAFE_INTEGER;
  if (rng.chance(0.2)) return rng.next32() * 0x20_0000 + rng.int(0x20_0000);
  return rng.int(1_000_000);
}

export function randomBytes(rng: SeededRng, maxLength: number): Uint8Array {
  const bytes = new Uint8Array(rng.int(maxLength + 1));
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
  return bytes;
}

function randomEntry(rng: SeededRng): Entry {
  return {
    term: randomUint(rng),
    index: randomUint(rng),
    type: rng.chance(0.2) ? "confChange" : "normal",
    data: randomBytes(rng, 64),
  };
}

/** A message with every field drawn at random; optional fields present or absent at random. */
export function randomMessage(rng: SeededRng): Message {
  const ids = (): bigint[] => Array.from({ length: rng.int(5) }, () => randomId(rng));
  const message: Message = {
    type: MESSAGE_TYPES[rng.int(MESSAGE_TYPES.length)]!,
    to: randomId(rng),
    from: randomId(rng),
    term: randomUint(rng),
    logTerm: randomUint(rng),
    index: randomUint(rng),
    entries: Array.from({ length: rng.int(4) }, () => randomEntry(rng)),
    commit: randomUint(rng),
    reject: rng.chance(0.5),
    rejectHint: randomUint(rng),
  };
  const snapshot = rng.chance(0.3)
    ? {
        data: randomBytes(rng, 200),
        metadata: {
          index: randomUint(rng),
          term: randomUint(rng),
          confState: { voters: ids(), learners: ids() },
        },
      }
    : undefined;
  const context = rng.chance(0.3) ? randomBytes(rng, 16) : undefined;
  return { ...message, ...(snapshot && { snapshot }), ...(context && { context }) };
}

/** A message with the fields not given at their zero values. */
export function msg(fields: Partial<Message> & Pick<Message, "type" | "to" | "from">): Message {
  return { term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...fields };
}
