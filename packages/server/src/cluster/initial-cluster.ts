/**
 * `--initial-cluster` and the peer URL flags as etcd parses and checks them (pkg/types/urls.go,
 * urlsmap.go; etcdserver/config.go VerifyBootstrap / VerifyJoinExisting), with etcd's messages.
 */

/** One member of `--initial-cluster`: its name and peer URLs (sorted, as etcd keeps them). */
export interface InitialMember {
  name: string;
  peerUrls: string[];
}

/** Whether this member starts a new cluster or joins one (`--initial-cluster-state`). */
export type InitialClusterState = "new" | "existing";

/** What the checks need from the configuration. */
export interface InitialClusterSettings {
  name: string;
  advertisePeerUrls: readonly string[];
  initialCluster: readonly InitialMember[];
  initialClusterState: InitialClusterState;
}

/** Most URLs one flag may list and most members `--initial-cluster` may name: bounds, not etcd limits. */
export const MAX_URLS = 1024;

const SCHEMES = new Set(["http:", "https:", "unix:", "unixs:"]);

/**
 * etcd's types.NewURLs: every URL needs an http, https, unix or unixs scheme, a `host:port`
 * and no path; the result is sorted. Throws etcd's message for the first bad one.
 */
export function parseUrls(values: readonly string[]): string[] {
  if (values.length === 0) throw new Error("no valid URLs given");
  if (values.length > MAX_URLS) throw new Error(`more than ${MAX_URLS} URLs given`);
  const urls = values.map((value) => {
    const text = value.trim();
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
    if (scheme === undefined || !SCHEMES.has(`${scheme}:`)) {
      throw new Error(`URL scheme must be http, https, unix, or unixs: ${text}`);
    }
    // Go's url.Parse keeps what follows the authority as the path; the host must be host:port.
    const match = /^[^:]+:\/\/([^/?#]*)(.*)$/.exec(text);
    const host = match?.[1] ?? "";
    if (!/^(\[[^\]]*\]|[^:[\]]*):[^:]*$/.test(host)) {
      throw new Error(`URL address does not have the form "host:port": ${text}`);
    }
    if (!/^([?#].*)?$/.test(match?.[2] ?? "")) throw new Error(`URL must not contain a path: ${text}`);
    return text;
  });
  return urls.sort();
}

/** A comma-separated URL flag (`--listen-peer-urls`, ...) parsed as etcd's flag does. */
export function parseUrlList(text: string): string[] {
  return parseUrls(text.split(","));
}

/**
 * Parses `--initial-cluster` (`name=url,name=url,...`; a name listed twice has several URLs),
 * in order of first appearance. Throws etcd's `error setting up initial cluster: ...`.
 */
export function parseInitialCluster(text: string): InitialMember[] {
  const byName = new Map<string, string[]>();
  for (const pair of text.split(",")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const [name, url] = eq < 0 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const urls = byName.get(name) ?? [];
    urls.push(url);
    byName.set(name, urls);
  }
  if (byName.size > MAX_URLS)
    throw new Error(`error setting up initial cluster: more than ${MAX_URLS} members`);
  try {
    return [...byName].map(([name, urls]) => ({ name, peerUrls: parseUrls(urls) }));
  } catch (error) {
    throw new Error(`error setting up initial cluster: ${(error as Error).message}`);
  }
}

/**
 * etcd's default `--initial-cluster`: `<name>=<url>` for each advertised peer URL. etcd uses it
 * when `--initial-cluster` is left at its default and `--name` is not (so `--name=x` alone
 * starts a one-member cluster named x).
 */
export function initialClusterFromName(name: string, advertisePeerUrls: readonly string[]): string {
  return advertisePeerUrls.map((url) => `${name === "" ? "default" : name}=${url}`).join(",");
}

/** etcd's URLsMap.String(): every `name=url` pair, sorted, comma-separated. */
export function formatInitialCluster(members: readonly InitialMember[]): string {
  return members
    .flatMap(({ name, peerUrls }) => peerUrls.map((url) => `${name}=${url}`))
    .sort()
    .join(",");
}

/**
 * etcd's VerifyBootstrap (new cluster) and VerifyJoinExisting: this member is in the initial
 * cluster, with exactly its advertised peer URLs when the cluster is new, and no peer URL is
 * listed twice. Throws etcd's message. Host names are compared as written (etcd resolves them
 * first, so it also accepts `localhost` for `127.0.0.1`).
 */
export function verifyInitialCluster(settings: InitialClusterSettings): void {
  const { name, initialCluster } = settings;
  const local = initialCluster.find((member) => member.name === name);
  if (local === undefined) {
    throw new Error(`couldn't find local name ${JSON.stringify(name)} in the initial cluster configuration`);
  }
  if (settings.initialClusterState === "new")
    checkAdvertiseMatchesCluster(name, settings.advertisePeerUrls, local.peerUrls);
  const all = initialCluster.flatMap((member) => member.peerUrls);
  if (new Set(all).size !== all.length) {
    throw new Error(`initial cluster ${formatInitialCluster(initialCluster)} has duplicate url`);
  }
}

/** etcd's advertiseMatchesCluster, without its DNS resolution. */
function checkAdvertiseMatchesCluster(
  name: string,
  advertise: readonly string[],
  clusterUrls: readonly string[],
): void {
  const ap = [...advertise].sort();
  const urls = [...clusterUrls].sort();
  const quote = (list: readonly string[]) => `[${list.map((u) => JSON.stringify(u)).join(" ")}]`;
  let cause: string | undefined;
  if (ap.length !== urls.length) cause = `len(${quote(ap)}) != len(${quote(urls)})`;
  else {
    const i = ap.findIndex((url, j) => url !== urls[j]);
    if (i >= 0) cause = `resolved urls: ${JSON.stringify(ap[i])} != ${JSON.stringify(urls[i])}`;
  }
  if (cause === undefined) return;
  const onlyInCluster = urls.filter((url) => !ap.includes(url));
  if (onlyInCluster.length > 0) {
    const missing = onlyInCluster.map((url) => `${name}=${url}`).join(",");
    throw new Error(
      `--initial-cluster has ${missing} but missing from --initial-advertise-peer-urls=${ap.join(",")} (${cause})`,
    );
  }
  const advertisedOnly = ap.filter((url) => !urls.includes(url));
  const self = formatInitialCluster([{ name, peerUrls: ap }]);
  if (advertisedOnly.length > 0) {
    throw new Error(
      `--initial-advertise-peer-urls has ${advertisedOnly.join(",")} but missing from --initial-cluster=${self}`,
    );
  }
  throw new Error(`failed to resolve ${ap.join(",")} to match --initial-cluster=${self} (${cause})`);
}
