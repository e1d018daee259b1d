import type { Discovery } from "../../src/index.js";

/** Records a discovery's change events as `added:<id>`, `removed:<id>`, `updated:<id>`. */
export function record(discovery: Discovery): string[] {
  const log: string[] = [];
  discovery.on("added", (i) => log.push(`added:${i.id}`));
  discovery.on("removed", (i) => log.push(`removed:${i.id}`));
  discovery.on("updated", (i) => log.push(`updated:${i.id}`));
  return log;
}
