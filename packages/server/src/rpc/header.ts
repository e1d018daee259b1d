import type { etcdserverpb } from "@keyway/api";

/** Where a ResponseHeader's fields come from. */
export interface HeaderSource {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  raftTerm(): bigint;
  currentRevision(): number;
}

/**
 * Fills a response header as etcd does: cluster, member and term always; the revision only
 * when the core left it 0 (the core sets it when the response belongs to a specific revision).
 */
export function fillHeader(source: HeaderSource, header: etcdserverpb.ResponseHeader | undefined) {
  return {
    clusterId: source.clusterId,
    memberId: source.memberId,
    revision:
      header !== undefined && header.revision !== 0n ? header.revision : BigInt(source.currentRevision()),
    raftTerm: source.raftTerm(),
  };
}
