export { DEFAULTS, ETCD_API_VERSION, type ServerConfig } from "./config.js";
export { EtcdServerError } from "./errors.js";
export { KeywayServer } from "./server.js";
