import type { Discovery } from "../discovery.js";
import { RegistryError } from "../errors.js";
import type { InstanceFilter } from "../filter.js";
import type { Registry } from "../registry.js";

interface Shared {
  discovery: Discovery;
  users: number;
}

/**
 * One {@link Discovery} per service, shared by every grpc-js channel that resolves it, so N
 * channels to a service cost one watch. A discovery is closed when its last resolver lets go.
 */
export class DiscoveryPool {
  private readonly shared = new Map<string, Shared>();
  private closed = false;

  constructor(
    private readonly registry: Registry,
    private readonly filter: InstanceFilter | undefined,
  ) {}

  /** The service's shared discovery; pair with {@link DiscoveryPool.release}. */
  acquire(service: string): Discovery {
    if (this.closed) throw new RegistryError("closed", "the keyway grpc-js resolver was closed");
    let entry = this.shared.get(service);
    if (entry === undefined) {
      const discovery = this.registry.discover(
        service,
        this.filter === undefined ? {} : { filter: this.filter },
      );
      entry = { discovery, users: 0 };
      this.shared.set(service, entry);
    }
    entry.users++;
    return entry.discovery;
  }

  /** Lets go of a discovery from {@link DiscoveryPool.acquire}; the last user closes it. */
  release(discovery: Discovery): void {
    const entry = this.shared.get(discovery.service);
    if (entry?.discovery !== discovery || --entry.users > 0) return;
    this.shared.delete(discovery.service);
    void discovery.close();
  }

  /** Closes every discovery; later resolutions fail with `closed`. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.shared.values()].map((entry) => entry.discovery);
    this.shared.clear();
    await Promise.all(all.map((discovery) => discovery.close()));
  }
}
