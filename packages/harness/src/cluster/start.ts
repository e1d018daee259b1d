import { startContainerCluster } from "./container-cluster.js";
import { requireDocker } from "./docker-cli.js";
import { startProcessCluster } from "./process-cluster.js";
import type { Cluster, ClusterOptions } from "./types.js";

/** How a cluster runs: containers, processes, or `auto` (containers when an engine answers). */
export type ClusterMode = "container" | "process" | "auto";

/** Clusters started and not yet closed (so a test's afterAll can remove what a timeout left). */
const open = new Set<Cluster>();

/**
 * Starts a cluster in the given mode. `auto` picks containers when a Docker engine answers and
 * processes otherwise — except with `CI=true`, where a missing engine throws: CI must run the
 * container scenarios, never silently fall back.
 */
export async function startCluster(
  options: ClusterOptions & { readonly mode?: ClusterMode },
): Promise<Cluster> {
  const mode = options.mode ?? "auto";
  const useContainers = mode === "container" || (mode === "auto" && (await requireDocker()));
  const cluster = useContainers ? await startContainerCluster(options) : await startProcessCluster(options);
  open.add(cluster);
  const close = cluster.close.bind(cluster);
  return Object.assign(cluster, {
    close: async () => {
      open.delete(cluster);
      await close();
    },
  });
}

/** Closes every cluster {@link startCluster} started that is still open (each by its own ids). */
export async function closeOpenClusters(): Promise<void> {
  await Promise.allSettled([...open].map((cluster) => cluster.close()));
}
