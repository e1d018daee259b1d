import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";

/** The ids that name this member and its cluster in every ResponseHeader; stable across restarts. */
export interface MemberIdentity {
  memberId: bigint;
  clusterId: bigint;
}

interface StoredIdentity {
  memberId: string;
  clusterId: string;
}

/**
 * Loads the member identity from `<dir>/identity.json`. On the first start (no file yet) it
 * stores what `create` returns (the ids etcd derives from `--initial-cluster`, see
 * cluster/member-id.ts) and reports `created`; later starts ignore the flags, as etcd does once
 * its data dir holds a member.
 */
export async function loadOrCreateIdentity(
  dir: string,
  create: () => MemberIdentity | Promise<MemberIdentity>,
): Promise<{ identity: MemberIdentity; created: boolean }> {
  const file = join(dir, "identity.json");
  try {
    const stored = JSON.parse(await readFile(file, "utf8")) as StoredIdentity;
    return {
      identity: { memberId: BigInt(stored.memberId), clusterId: BigInt(stored.clusterId) },
      created: false,
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const identity = await create();
  if (identity.memberId === 0n) throw new Error("cannot use 0 as member id");
  const { memberId, clusterId } = identity;
  await writeFileDurably(file, JSON.stringify({ memberId: `${memberId}`, clusterId: `${clusterId}` }));
  return { identity, created: true };
}

/** Writes a file so that after a crash it is either absent or complete: temp file, fsync, rename, fsync dir. */
async function writeFileDurably(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  const handle = await open(temp, "w");
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  const dirHandle = await open(dirname(file), "r");
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** The identity as the WAL's metadata record: member id then cluster id, 8 bytes each, big-endian. */
export function encodeIdentity(identity: MemberIdentity): Uint8Array {
  const bytes = Buffer.alloc(16);
  bytes.writeBigUInt64BE(identity.memberId, 0);
  bytes.writeBigUInt64BE(identity.clusterId, 8);
  return bytes;
}
