/**
 * Small shared helpers of the core: assertions and byte-array comparisons.
 */

/** Thrown when an invariant of the core is broken: a bug or corrupted storage, never an operating error. */
export class RaftInvariantError extends Error {
  override readonly name = "RaftInvariantError";
}

/** Stops on an impossible state. Assertions stay on in production (see STYLE.md). */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new RaftInvariantError(message);
}

/** Byte-wise equality of two optional byte arrays (absent equals empty). */
export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  const x = a ?? EMPTY;
  const y = b ?? EMPTY;
  if (x.byteLength !== y.byteLength) return false;
  for (let i = 0; i < x.byteLength; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** A map key for a byte array (latin1 string: cheap and exact). */
export function bytesKey(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.byteLength; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** The shared empty byte array. Never written to. */
export const EMPTY = new Uint8Array(0);
