import { createHash } from "node:crypto";

/**
 * etcd's member id: the first 8 bytes (big-endian) of sha1 over the member's peer URLs sorted
 * and concatenated, then the cluster token, then, for a member added at runtime, the decimal Unix
 * time in seconds of the MemberAdd (so a member re-added with the same URLs gets a new id; etcd
 * 3.4's MemberAdd passes an empty token). The members of `--initial-cluster` have no time part,
 * so every member of a new cluster derives the same ids on its own.
 */
export function computeMemberId(
  peerUrls: readonly string[],
  clusterToken: string,
  addedAtUnixSeconds?: number,
): bigint {
  const hash = createHash("sha1");
  // Sorted by code unit, as Go's sort.Strings sorts bytes (URLs are ASCII).
  for (const url of [...peerUrls].sort()) hash.update(url);
  hash.update(clusterToken);
  if (addedAtUnixSeconds !== undefined) hash.update(`${Math.floor(addedAtUnixSeconds)}`);
  return hash.digest().readBigUInt64BE(0);
}

/**
 * etcd's cluster id: the first 8 bytes (big-endian) of sha1 over the member ids of the initial
 * cluster, sorted ascending, each as 8 bytes big-endian. The token enters through the member ids.
 */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = Buffer.alloc(8 * sorted.length);
  for (const [i, id] of sorted.entries()) bytes.writeBigUInt64BE(id, 8 * i);
  return createHash("sha1").update(bytes).digest().readBigUInt64BE(0);
}
