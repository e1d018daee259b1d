/**
 * `@keyway/registry/grpc`: a grpc-js resolver for `keyway:///<service>` targets and a `keyway`
 * load-balancing policy driven by the registry's pickers. A subpath of its own, so the registry
 * core never touches grpc-js's experimental API.
 */
import { experimental, type ServiceConfig } from "@grpc/grpc-js";
import type { DownPolicy } from "../balancer.js";
import { badRequest } from "../errors.js";
import type { InstanceFilter } from "../filter.js";
import type { PickerName } from "../pickers.js";
import type { Registry } from "../registry.js";
import {
  KeywayLbConfig,
  type KeywayLbConfigJson,
  type LB_POLICY_NAME,
  registerKeywayLoadBalancer,
} from "./load-balancer.js";
import { DiscoveryPool } from "./pool.js";
import { resolverClass } from "./resolver.js";

export { type KeywayLbConfigJson, LB_POLICY_NAME } from "./load-balancer.js";
export { INSTANCES_ATTRIBUTE } from "./resolver.js";

/** Options of {@link useKeywayResolver}. */
export interface KeywayResolverOptions {
  /** URI scheme of the targets (`<scheme>:///<service>`); default `keyway`. */
  scheme?: string;
  /** Named port dialed (`instance.ports[port]`); default `grpc`; without it, the port in `address`. */
  port?: string;
  /** Picker of channels that set no `grpc.service_config` of their own; default `round-robin`. */
  picker?: PickerName;
  /** Down-instance policy of those channels. */
  downPolicy?: DownPolicy;
  /** Which instances every channel of this resolver may call (in addition to status `up`). */
  filter?: InstanceFilter;
}

/** What {@link useKeywayResolver} installed. */
export interface KeywayResolverHandle extends AsyncDisposable {
  /** The scheme registered with grpc-js. */
  readonly scheme: string;
  /** Stops the shared discoveries; channels keep their last instances, new ones fail to resolve. */
  close(): Promise<void>;
}

const SCHEME = /^[a-z][a-z0-9+.-]{0,31}$/;

/**
 * Throws unless the installed grpc-js has the resolver and LB API this adapter is written for
 * (the `StatusOr`-based shape of grpc-js 1.14; older releases had another experimental API).
 */
function checkGrpcJs(): void {
  const api = experimental as Partial<typeof experimental>;
  if (
    typeof api.statusOrFromValue !== "function" ||
    typeof api.LeafLoadBalancer !== "function" ||
    typeof api.registerResolver !== "function"
  )
    throw badRequest(
      "@keyway/registry/grpc needs @grpc/grpc-js >= 1.14.0 < 2 (its experimental resolver API)",
    );
}

/**
 * The service config that selects the `keyway` policy with the given picker; pass it as
 * `{ "grpc.service_config": JSON.stringify(keywayServiceConfig({ picker })) }` or use
 * {@link keywayChannelOptions}.
 */
export function keywayServiceConfig(config: KeywayLbConfigJson = {}): ServiceConfig {
  // Parsing validates the picker and down policy here rather than inside grpc-js.
  const parsed = KeywayLbConfig.createFromJson(config);
  return {
    loadBalancingConfig: [parsed.toJsonObject() as Record<typeof LB_POLICY_NAME, KeywayLbConfigJson>],
    methodConfig: [],
  };
}

/** Channel options that select the `keyway` policy with `config` (for a client's third argument). */
export function keywayChannelOptions(config: KeywayLbConfigJson = {}): { "grpc.service_config": string } {
  return { "grpc.service_config": JSON.stringify(keywayServiceConfig(config)) };
}

/**
 * Registers, with the grpc-js this package resolves as its peer, a resolver for
 * `keyway:///<service>` fed by `registry` and the `keyway` load-balancing policy. Then a plain
 * client balances over the service's `up` instances:
 * `new GreeterClient("keyway:///greeter", credentials.createInsecure())`. Registering the same
 * scheme again replaces the resolver for channels created afterwards.
 */
export function useKeywayResolver(
  registry: Registry,
  options: KeywayResolverOptions = {},
): KeywayResolverHandle {
  checkGrpcJs();
  const { scheme = "keyway", port = "grpc", picker = "round-robin", downPolicy = {}, filter } = options;
  if (!SCHEME.test(scheme)) throw badRequest(`scheme must match ${SCHEME}, got ${JSON.stringify(scheme)}`);
  if (typeof port !== "string" || port === "") throw badRequest("port must be a port name");
  const serviceConfig = keywayServiceConfig({ picker, downPolicy });
  registerKeywayLoadBalancer();
  const pool = new DiscoveryPool(registry, filter);
  experimental.registerResolver(scheme, resolverClass({ pool, portName: port, serviceConfig }));
  return {
    scheme,
    close: () => pool.close(),
    [Symbol.asyncDispose]: () => pool.close(),
  };
}
