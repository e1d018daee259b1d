import { startContainerCluster } from "./container-cluster.js";
import { requireDocker } from "./docker-cli.js";
import { startProcessCluster } from "./process-cluster.js";
import type { Cluster, ClusterOptions } from "./types.js";

/** How a cluster runs: containers, processes, or `auto` (containers when an engine answers). */
export type ClusterMode = "container" | "process" | "auto";

/**
 * Starts a cluster in the given mode. `auto` picks containers when a Docker engine answers and
 * processes otherwise — except with `CI=true`, where a missing engine throws: CI must run the
 * container scenarios, never silently fall back.
 */
export async function startCluster(
  options: ClusterOptions & { readonly mode?: ClusterMode },
): Promise<Cluster> {
  const mode = options.mode ?? "auto";
  if (mode === "process") return startProcessCluster(options);
  if (mode === "container" || (await requireDocker())) return startContainerCluster(options);
  return startProcessCluster(options);
}
