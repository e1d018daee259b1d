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
export { MemberRemovedError } from "./cluster/removal.js";
export { DEFAULTS, ETCD_API_VERSION, type ServerConfig } from "./config.js";
export { EtcdServerError } from "./errors.js";
export { PeerProtocolError } from "./peer/errors.js";
export { helloSender } from "./peer/handshake.js";
export { decodeMessage, decodeMessages, encodeMessage } from "./peer/message-codec.js";
export {
  DEFAULT_PEER_LIMITS,
  type PeerLogFn,
  type PeerLogger,
  type PeerTransportLimits,
  type PeerTransportOptions,
} from "./peer/options.js";
export { type PeerRequestOptions, PeerTransport } from "./peer/transport.js";
export { KeywayServer } from "./server.js";
