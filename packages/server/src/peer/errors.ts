/**
 * Malformed or unexpected input on a peer connection: a truncated or corrupted frame, an unknown
 * message type, a handshake from another cluster. The connection that produced it is dropped; the
 * process carries on.
 */
export class PeerProtocolError extends Error {
  override readonly name = "PeerProtocolError";
}
