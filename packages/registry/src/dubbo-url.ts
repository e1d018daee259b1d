/**
 * Dubbo's provider URLs and the escaping its etcd3 registry applies to them. Java Dubbo builds a
 * key with `URL.encode` (`java.net.URLEncoder.encode(s, "UTF-8")`) and dubbo-go with Go's
 * `url.QueryEscape`; both turn a space into `+` and percent-encode with upper-case hex. They
 * differ only on `*` (kept by Java) and `~` (kept by Go); we write Java's form and read both.
 */

const UNRESERVED = /^[A-Za-z0-9.*_-]$/;

/** `java.net.URLEncoder.encode(text, "UTF-8")`. */
export function dubboEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(byte);
    if (byte < 0x80 && UNRESERVED.test(char)) out += char;
    else if (byte === 0x20) out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** `java.net.URLDecoder.decode(text, "UTF-8")`: `+` is a space; a bad `%` escape throws. */
export function dubboDecode(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === "+") bytes.push(0x20);
    else if (char === "%") {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new Error(`bad escape at ${i}`);
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(char, "utf8"));
  }
  return UTF8.decode(Uint8Array.from(bytes));
}

/** The parts of a provider URL (`dubbo://10.0.0.7:20880/org.demo.Greeter?side=provider&…`). */
export interface DubboUrl {
  protocol: string;
  /** Host as written (an IPv6 address keeps its brackets). */
  host: string;
  port: number;
  path: string;
  params: Map<string, string>;
}

/** `URL.toFullString()` of a provider: parameters sorted by name, values as they are. */
export function formatDubboUrl(url: DubboUrl): string {
  const query = [...url.params.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  return `${url.protocol}://${url.host}:${url.port}/${url.path}${query === "" ? "" : `?${query}`}`;
}

const URL_SHAPE =
  /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@/?]*@)?(\[[^\]/?]+\]|[^:/?]+):(\d{1,5})(?:\/([^?]*))?(?:\?(.*))?$/;

/** Parses a provider URL the way Dubbo's `URL.valueOf` splits it; throws on anything else. */
export function parseDubboUrl(text: string): DubboUrl {
  const match = URL_SHAPE.exec(text);
  if (match === null) throw new Error("not a protocol://host:port/path URL");
  const [, protocol, host, port, path, query] = match as unknown as [
    string,
    string,
    string,
    string,
    string?,
    string?,
  ];
  const params = new Map<string, string>();
  for (const part of (query ?? "").split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    // A bare name is a flag whose value is its own name, as in Dubbo.
    if (eq < 0) params.set(part, part);
    else params.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return { protocol, host, port: Number(port), path: path ?? "", params };
}

/** Splits `host:port` (IPv6 in brackets); undefined when it is not one. */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(address);
  if (match === null) return undefined;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? { host: match[1] as string, port } : undefined;
}
