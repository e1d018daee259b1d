import { parseListenUrl } from "../url.js";

/** Where to listen or dial for a peer URL: `net` wants IPv6 hosts without brackets. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses an `http://host:port` peer URL; throws Error with the URL for anything else. */
export function parsePeerUrl(url: string): PeerAddress {
  const { hostname, port } = parseListenUrl(url);
  return { host: hostname.replace(/^\[(.*)\]$/, "$1"), port };
}

/** The URL of a bound address, as `boundAddresses` reports it. */
export function formatPeerUrl(host: string, port: number): string {
  return host.includes(":") ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
