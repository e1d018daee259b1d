/**
 * Input on a client connection that is not valid HTTP/2 or HPACK as far as the authority repair
 * needs to read it (bad HPACK, a frame that cannot be where it is, a limit exceeded). The
 * connection it came from is destroyed; the server carries on.
 */
export class Http2InputError extends Error {
  override readonly name = "Http2InputError";
}
