import type { FieldWatch } from "./hpack-decoder.js";

/**
 * The `:authority` a server can accept in place of one that carries a URL scheme, or undefined
 * when `authority` needs no repair. grpc-go (etcdctl 3.4's per-endpoint dials, target
 * `passthrough:///http://host:port`) sends the endpoint URL itself, e.g. `http://127.0.0.1:2379`
 * or `http://127.0.0.1:2379/`; Node's HTTP/2 rejects any authority containing "/". The repair
 * keeps what follows "://" up to the first "/" (the path, if any, is dropped).
 */
export function repairedAuthority(authority: string): string | undefined {
  const schemeEnd = authority.indexOf("://");
  if (schemeEnd < 0) return undefined;
  const rest = authority.slice(schemeEnd + 3);
  const pathStart = rest.indexOf("/");
  return pathStart < 0 ? rest : rest.slice(0, pathStart);
}

/** An `:authority` that needs {@link repairedAuthority}, for `HpackDecoder.decodeIfWatched`. */
export const SCHEME_AUTHORITY: FieldWatch = {
  name: ":authority",
  matches: (value) => repairedAuthority(value) !== undefined,
};
