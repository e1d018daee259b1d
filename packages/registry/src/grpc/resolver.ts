import { type ChannelOptions, experimental, Metadata, type ServiceConfig, status } from "@grpc/grpc-js";
import type { Discovery } from "../discovery.js";
import { checkName, type Instance } from "../instance.js";
import { grpcAddressOf } from "./address.js";
import type { DiscoveryPool } from "./pool.js";

/**
 * The resolver attribute (merged into the load balancer's channel options by grpc-js) that maps
 * each endpoint, keyed by `experimental.endpointToString`, to its registry instance, so the
 * `keyway` policy knows weights and ids (grpc-js endpoints carry no attributes of their own).
 */
export const INSTANCES_ATTRIBUTE = "keyway.registry.instances";

/** How resolvers of one `useKeywayResolver()` turn instances into endpoints. */
export interface ResolverSettings {
  pool: DiscoveryPool;
  /** Named port to dial (`ports[portName]`), else the port in the address. */
  portName: string;
  /** Service config given when the channel sets no `grpc.service_config` of its own. */
  serviceConfig: ServiceConfig;
}

/** The service named by a `keyway:///<service>` target; throws `badRequest` for an invalid name. */
export function serviceOf(target: experimental.GrpcUri): string {
  return checkName(target.path, `the service of target ${experimental.uriToString(target)}`);
}

/** The endpoints of `instances` that are `up` and have a grpc address, one per address. */
export function endpointsOf(
  instances: readonly Instance[],
  portName: string,
): { endpoints: experimental.Endpoint[]; byEndpoint: Map<string, Instance> } {
  const endpoints: experimental.Endpoint[] = [];
  const byEndpoint = new Map<string, Instance>();
  for (const instance of instances) {
    if (instance.status !== "up") continue;
    const address = grpcAddressOf(instance, portName);
    if (address === undefined) continue;
    const endpoint = { addresses: [address] };
    const key = experimental.endpointToString(endpoint);
    if (byEndpoint.has(key)) continue;
    byEndpoint.set(key, instance);
    endpoints.push(endpoint);
  }
  return { endpoints, byEndpoint };
}

/** What `experimental.registerResolver` takes (grpc-js does not export the type). */
export interface ResolverConstructor {
  new (
    target: experimental.GrpcUri,
    listener: experimental.ResolverListener,
    options: ChannelOptions,
  ): experimental.Resolver;
  getDefaultAuthority(target: experimental.GrpcUri): string;
}

/** A grpc-js resolver class bound to one registry (grpc-js instantiates it per channel). */
export function resolverClass(settings: ResolverSettings): ResolverConstructor {
  return class KeywayResolver extends DiscoveryResolver {
    constructor(
      target: experimental.GrpcUri,
      listener: experimental.ResolverListener,
      options: ChannelOptions,
    ) {
      super(target, listener, options, settings);
    }

    static getDefaultAuthority(target: experimental.GrpcUri): string {
      return serviceOf(target);
    }
  };
}

/**
 * Resolves `keyway:///<service>` from a shared {@link Discovery}: every change of the service's
 * instances is sent to grpc-js (coalesced per event-loop turn). Before the first listing an
 * error is reported as UNAVAILABLE; after it, the last good list is kept while the registry is
 * unreachable, so an etcd outage does not take RPC traffic down with it.
 */
class DiscoveryResolver implements experimental.Resolver {
  private readonly service: string;
  private readonly target: string;
  private readonly serviceConfig: ReturnType<typeof experimental.statusOrFromValue<ServiceConfig>> | null;
  private discovery: Discovery | undefined;
  /** Between updateResolution() and destroy(): only then may the listener be called. */
  private active = false;
  private loaded = false;
  private lastError: string | undefined;
  private scheduled = false;
  private readonly onChange = () => this.schedule();
  private readonly onError = (err: unknown) => {
    this.lastError = err instanceof Error ? err.message : String(err);
    if (!this.loaded) this.schedule();
  };

  constructor(
    target: experimental.GrpcUri,
    private readonly listener: experimental.ResolverListener,
    options: ChannelOptions,
    private readonly settings: ResolverSettings,
  ) {
    this.service = serviceOf(target);
    this.target = experimental.uriToString(target);
    // A channel's own grpc.service_config applies only when the resolver gives none.
    this.serviceConfig =
      options["grpc.service_config"] === undefined
        ? experimental.statusOrFromValue(settings.serviceConfig)
        : null;
  }

  updateResolution(): void {
    this.active = true;
    if (this.discovery === undefined) this.subscribe();
    this.schedule();
  }

  destroy(): void {
    this.active = false;
    this.lastError = undefined;
    const discovery = this.discovery;
    if (discovery === undefined) return;
    this.discovery = undefined;
    this.loaded = false;
    for (const event of ["added", "removed", "updated"] as const) discovery.off(event, this.onChange);
    discovery.off("error", this.onError);
    this.settings.pool.release(discovery);
  }

  private subscribe(): void {
    let discovery: Discovery;
    try {
      discovery = this.settings.pool.acquire(this.service);
    } catch (err) {
      this.onError(err);
      return;
    }
    this.discovery = discovery;
    for (const event of ["added", "removed", "updated"] as const) discovery.on(event, this.onChange);
    discovery.on("error", this.onError);
    discovery.ready.then(
      () => {
        if (this.discovery !== discovery) return;
        this.loaded = true;
        this.schedule();
      },
      () => undefined,
    );
  }

  /** Sends the current state on a later turn (grpc-js forbids calling back synchronously). */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.publish();
    });
  }

  private publish(): void {
    if (!this.active) return;
    if (!this.loaded) {
      if (this.lastError === undefined) return;
      const details = `${this.target}: cannot list the service's instances: ${this.lastError}`;
      this.listener(
        experimental.statusOrFromError({ code: status.UNAVAILABLE, details, metadata: new Metadata() }),
        {},
        null,
        details,
      );
      return;
    }
    const instances = this.discovery?.instances() ?? [];
    const { endpoints, byEndpoint } = endpointsOf(instances, this.settings.portName);
    const note = `${this.target}: ${endpoints.length} instance(s) up of ${instances.length} registered`;
    this.listener(
      experimental.statusOrFromValue(endpoints),
      { [INSTANCES_ATTRIBUTE]: byEndpoint },
      this.serviceConfig,
      note,
    );
  }
}
