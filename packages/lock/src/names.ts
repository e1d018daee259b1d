import type { Session } from "@keyway/client";
import { LockError } from "./errors.js";

/** Longest lock or election name accepted, in bytes (etcd's default request limit is 1.5 MiB). */
export const MAX_NAME_BYTES = 4096;

/**
 * Validates a lock or election name and returns its key prefix: `name + "/"`, as Go's
 * `concurrency.NewMutex(s, name)` and `NewElection(s, name)` build it. A name must be non-empty,
 * at most {@link MAX_NAME_BYTES} bytes, contain no NUL byte, and not end with `/` (Go would then
 * write `name//...`, which no other client expects).
 */
export function keyPrefix(name: unknown): Buffer {
  if (typeof name !== "string" && !(name instanceof Uint8Array))
    throw new LockError("badRequest", `a lock name must be a string or bytes, got ${typeof name}`);
  const bytes = Buffer.from(name);
  if (bytes.length === 0) throw new LockError("badRequest", "a lock name must not be empty");
  if (bytes.length > MAX_NAME_BYTES)
    throw new LockError("badRequest", `a lock name must be at most ${MAX_NAME_BYTES} bytes`);
  if (bytes.includes(0)) throw new LockError("badRequest", "a lock name must not contain NUL bytes");
  if (bytes[bytes.length - 1] === 0x2f) throw new LockError("badRequest", "a lock name must not end with /");
  return Buffer.concat([bytes, Buffer.from("/")]);
}

/** The lease id as Go's `fmt.Sprintf("%x", id)` prints it: lowercase hex, no prefix or padding. */
export function leaseHex(leaseId: bigint): string {
  return leaseId.toString(16);
}

/** Throws `sessionLost` when the session's lease is already gone. */
export function checkSession(session: unknown): asserts session is Session {
  if (typeof session !== "object" || session === null || !("leaseId" in session) || !("signal" in session))
    throw new LockError("badRequest", "a session (from client.session()) is required");
  const s = session as Session;
  if (s.isLost)
    throw new LockError("sessionLost", `session lease ${leaseHex(s.leaseId)} is lost`, s.signal.reason);
}
