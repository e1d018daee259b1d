export type { Anomaly } from "./check/anomaly.js";
export {
  type CheckOptions,
  type CheckReport,
  checkAcknowledgedWrites,
  checkHistory,
  DEFAULT_CHECK_TIMEOUT_MS,
  formatReport,
} from "./check/index.js";
export { requireDocker } from "./cluster/docker-cli.js";
export { type ClusterMode, closeOpenClusters, startCluster } from "./cluster/start.js";
export type { Cluster, ClusterMember, ClusterOptions, Direction, Target } from "./cluster/types.js";
export { FAULT_KINDS, type FaultKind, parseFaultKind } from "./faults/types.js";
export type * from "./history/index.js";
export { parseHistory, serializeHistory } from "./history/json.js";
export {
  type PlantedBug,
  type PlantedProxy,
  type PlantedProxyOptions,
  startPlantedProxy,
} from "./planted/proxy.js";
export { replayCommand, runScenario, type ScenarioOptions, type ScenarioResult } from "./scenario/run.js";
export { MAX_TRAFFIC_CLIENTS, runTraffic, type TrafficOptions } from "./traffic/run.js";
