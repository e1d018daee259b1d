export {
  formatInitialCluster,
  type InitialClusterState,
  type InitialMember,
  initialClusterFromName,
  parseInitialCluster,
  parseUrlList,
} from "./cluster/initial-cluster.js";
export { computeClusterId, computeMemberId } from "./cluster/member-id.js";
export type { Member, MemberChange } from "./cluster/membership.js";
export { DEFAULTS, ETCD_API_VERSION, type ServerConfig } from "./config.js";
export { EtcdServerError } from "./errors.js";
export { KeywayServer } from "./server.js";
