/**
 * Discoverer process of the convergence bench: `--clients` KeywayClients, each with its own
 * connection and a Discovery of `--service`. For an instance whose id starts with `--track`, it
 * tells the driver once every one of its discoveries has seen it added (or removed), with the
 * time of the last one, so the driver learns "every client saw it" from one message per process.
 * It says `ready` once every discovery lists `--expect` instances (or after `--settle-ms`, with
 * what they list, so the driver can tell a run that never settled).
 */
import { parseArgs } from "node:util";
import { KeywayClient } from "@keyway/client";
import { type Instance, registry } from "@keyway/registry";
import { exitWithParent, now, tell } from "./protocol.js";

const { values } = parseArgs({
  options: {
    endpoint: { type: "string" },
    service: { type: "string" },
    clients: { type: "string", default: "25" },
    track: { type: "string", default: "probe-" },
    expect: { type: "string", default: "0" },
    "settle-ms": { type: "string", default: "60000" },
  },
});
const clients = Number(values.clients);
const track = values.track as string;
exitWithParent();

/** Per tracked id and event type: how many discoveries saw it, and when the last one did. */
const counts = new Map<string, { seen: number; last: number }>();

function saw(type: "added" | "removed", instance: Instance): void {
  if (!instance.id.startsWith(track)) return;
  const at = now();
  const key = `${type} ${instance.id}`;
  const entry = counts.get(key) ?? { seen: 0, last: 0 };
  entry.seen++;
  entry.last = at;
  counts.set(key, entry);
  if (entry.seen < clients) return;
  counts.delete(key);
  tell({ type, id: instance.id, at: entry.last });
}

const discoveries = Array.from({ length: clients }, () => {
  const client = new KeywayClient({ endpoints: [values.endpoint as string] });
  const discovery = registry(client).discover(values.service as string);
  discovery.on("added", (instance) => saw("added", instance));
  discovery.on("removed", (instance) => saw("removed", instance));
  discovery.on("error", (err) => console.error("discovery error:", err));
  return discovery;
});
await Promise.all(discoveries.map((d) => d.ready));
const settleBy = Date.now() + Number(values["settle-ms"]);
while (discoveries.some((d) => d.instances().length < Number(values.expect)) && Date.now() < settleBy)
  await new Promise((resolve) => setTimeout(resolve, 100));
tell({ type: "ready", seen: discoveries.map((d) => d.instances().length) });
