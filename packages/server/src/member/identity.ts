import { createHash, randomBytes } from "node:crypto";
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
 * Loads the member identity from `<dir>/identity.json`, creating it on first start. The member
 * id is random (etcd hashes peer URLs and a timestamp; any unique non-zero id serves); the cluster
 * id hashes the member ids with the cluster token, as etcd does for a new cluster.
 */
export async function loadOrCreateIdentity(dir: string, clusterToken: string): Promise<MemberIdentity> {
  const file = join(dir, "identity.json");
  try {
    const stored = JSON.parse(await readFile(file, "utf8")) as StoredIdentity;
    return { memberId: BigInt(stored.memberId), clusterId: BigInt(stored.clusterId) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const memberId = nonZeroId(randomBytes(8));
  const clusterId = nonZeroId(createHash("sha256").update(`${memberId}:${clusterToken}`).digest());
  await writeFileDurably(file, JSON.stringify({ memberId: `${memberId}`, clusterId: `${clusterId}` }));
  return { memberId, clusterId };
}

function nonZeroId(bytes: Buffer): bigint {
  const id = bytes.readBigUInt64BE(0);
  return id === 0n ? 1n : id;
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
