export type { Anomaly } from "./check/anomaly.js";
export {
  type CheckOptions,
  type CheckReport,
  checkAcknowledgedWrites,
  checkHistory,
  DEFAULT_CHECK_TIMEOUT_MS,
  formatReport,
} from "./check/index.js";
export type * from "./history/index.js";
export { MAX_TRAFFIC_CLIENTS, runTraffic, type TrafficOptions } from "./traffic/run.js";
