import { type EtcdCluster, requireEtcd, startEtcdCluster } from "./etcd-process.js";
import { type KeywayProcess, startKeywayProcess } from "./keyway-process.js";

/** A fresh real etcd 3.4 and a fresh Keyway member, side by side, for differential tests. */
export interface ServerPair {
  etcd: EtcdCluster;
  keyway: KeywayProcess;
  close(): Promise<void>;
}

/** Starts both; fails loudly when etcd cannot run (never a silent skip in CI). */
export async function startPair(): Promise<ServerPair> {
  if (!requireEtcd()) throw new Error("etcd 3.4 is required: run scripts/install-etcd.sh");
  const [etcd, keyway] = await Promise.all([startEtcdCluster(), startKeywayProcess()]);
  return {
    etcd,
    keyway,
    close: async () => {
      await Promise.all([etcd.close(), keyway.close()]);
    },
  };
}
