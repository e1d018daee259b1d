export type { WatchHistory, WatchLimits } from "./context.js";
export { WATCH_DEFAULTS, WatchHub, type WatchHubOptions, WatchLimitError } from "./hub.js";
export { registerWatchMetrics } from "./metrics.js";
export { type ResponseSink, WatchSession } from "./session.js";
