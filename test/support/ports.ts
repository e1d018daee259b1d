// One implementation for the suites and the fault harness's process mode.
export { freePort } from "../../packages/harness/src/cluster/free-port.js";
