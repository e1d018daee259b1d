import { Gauge, type Registry } from "prom-client";
import type { WatchHub } from "./hub.js";

/** etcd's watch gauges, read from the hub when scraped. */
export function registerWatchMetrics(hub: WatchHub, registry: Registry): void {
  new Gauge({
    name: "etcd_debugging_mvcc_watch_stream_total",
    help: "Total number of watch streams.",
    registers: [registry],
    collect() {
      this.set(hub.streamCount);
    },
  });
  new Gauge({
    name: "etcd_debugging_mvcc_watcher_total",
    help: "Total number of watchers.",
    registers: [registry],
    collect() {
      this.set(hub.watcherCount);
    },
  });
  new Gauge({
    name: "etcd_debugging_mvcc_slow_watcher_total",
    help: "Total number of unsynced slow watchers.",
    registers: [registry],
    collect() {
      this.set(hub.slowWatcherCount);
    },
  });
}
