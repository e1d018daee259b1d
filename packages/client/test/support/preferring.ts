import type { Endpoint, Picker } from "../../src/index.js";

/** A picker that uses `url` for everything while it is healthy, so a fault there hits every path. */
export function preferring(url: string): Picker<Endpoint> {
  return { pick: (candidates) => candidates.find((e) => e.url === url) ?? candidates[0] };
}
