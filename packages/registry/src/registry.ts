import type { Keyspace } from "@keyway/client";
import { type DiscoverOptions, Discovery } from "./discovery.js";
import { checkName } from "./instance.js";
import { DEFAULT_PREFIX, Layout } from "./layout.js";
import { type RegisterOptions, Registration } from "./registration.js";

/** Options of {@link registry}. */
export interface RegistryOptions {
  /** Root of the registry's keys (no trailing `/`); default `keyway/registry`. */
  prefix?: string;
}

/** Registration and discovery over one keyspace: `registry(client).register({ service, instance })`. */
export interface Registry {
  /**
   * Registers an instance under a new session's lease and keeps it registered until `close()`.
   * Resolves once the key is written; invalid input is refused before anything is written.
   */
  register(options: RegisterOptions): Promise<Registration>;
  /** Starts discovering a service's instances; await `ready` for the first listing. */
  discover(service: string, options?: DiscoverOptions): Discovery;
}

/** The registry over `keyspace` (a `KeywayClient` or one of its namespaces). */
export function registry(keyspace: Keyspace, options: RegistryOptions = {}): Registry {
  const layout = new Layout(options.prefix ?? DEFAULT_PREFIX);
  return {
    register: (registerOptions) => Registration.start(keyspace, layout, registerOptions),
    discover: (service, discoverOptions) =>
      new Discovery(
        keyspace,
        checkName(service, "a service name"),
        layout.servicePrefix(service),
        discoverOptions,
      ),
  };
}
