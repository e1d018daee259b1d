export type * from "./history/index.js";
