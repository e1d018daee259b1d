/** Where a listen URL says to listen. `hostname` keeps IPv6 brackets, as URLs spell it. */
export interface ListenTarget {
  hostname: string;
  port: number;
}

/**
 * Parses a client listen URL. Only plain `http://` is served for now (no TLS); etcd's
 * `unix://` and `https://` forms are refused with a clear message instead of being misread.
 */
export function parseListenUrl(url: string): ListenTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid listen URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:") {
    throw new Error(`listen URL ${url}: only http:// is supported`);
  }
  if (parsed.port === "") throw new Error(`listen URL ${url} has no port`);
  return { hostname: parsed.hostname, port: Number(parsed.port) };
}
