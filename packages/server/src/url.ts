/**
 * The host:port a listen URL names. Only plain `http://` is served for now (no TLS); etcd's
 * `unix://` and `https://` forms are refused with a clear message instead of being misread.
 */
export function listenAddress(url: string): string {
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
  return `${parsed.hostname}:${parsed.port}`;
}
