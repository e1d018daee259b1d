import type { Keyspace } from "@keyway/client";
import { type DiscoverOptions, Discovery } from "./discovery.js";
import { checkName } from "./instance.js";
import { DEFAULT_PREFIX } from "./layout.js";
import { type LayoutOption, resolveLayout } from "./layouts.js";
import { type RegisterOptions, Registration } from "./registration.js";

/** Options of {@link registry}. */
export interface RegistryOptions {
  /** Root of the `keyway` layout's keys (no trailing `/`); default `keyway/registry`. */
  prefix?: string;
  /**
   * Key layout of every register() and discover() that does not name its own: `keyway`
   * (default), `go-endpoints` (etcd's Go `naming/endpoints`), `dubbo` (Dubbo's etcd3 registry),
   * or a layout from `goEndpointsLayout()` / `dubboLayout()` with options.
   */
  layout?: LayoutOption;
}

/** Registration and discovery over one keyspace: `registry(client).register({ service, instance })`. */
export interface Registry {
  /**
   * Registers an instance under a new session's lease and keeps it registered until `close()`.
   * Resolves once the key is written; invalid input is refused before anything is written.
   */
  register(options: RegisterOptions & { layout?: LayoutOption }): Promise<Registration>;
  /** Starts discovering a service's instances; await `ready` for the first listing. */
  discover(service: string, options?: DiscoverOptions & { layout?: LayoutOption }): Discovery;
}

/** The registry over `keyspace` (a `KeywayClient` or one of its namespaces). */
export function registry(keyspace: Keyspace, options: RegistryOptions = {}): Registry {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const fallback = resolveLayout(options.layout ?? "keyway", prefix);
  const layoutOf = (option: LayoutOption | undefined) =>
    option === undefined ? fallback : resolveLayout(option, prefix);
  return {
    register: (registerOptions) =>
      Registration.start(keyspace, layoutOf(registerOptions?.layout), registerOptions),
    discover: (service, discoverOptions) => {
      const layout = layoutOf(discoverOptions?.layout);
      return new Discovery(keyspace, checkName(service, "a service name"), layout, discoverOptions);
    },
  };
}
