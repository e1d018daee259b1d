import { type ChannelOptions, connectivityState, experimental } from "@grpc/grpc-js";
import { Balancer, type DownPolicy } from "../balancer.js";
import { badRequest } from "../errors.js";
import type { Instance } from "../instance.js";
import { createInstancePicker, type PickerName } from "../pickers.js";
import { BalancedPicker, type ReadyChild, UnstartedPicks } from "./picker.js";
import { INSTANCES_ATTRIBUTE } from "./resolver.js";

/** Name of the grpc-js load-balancing policy (`loadBalancingConfig: [{ keyway: {...} }]`). */
export const LB_POLICY_NAME = "keyway";

/** The `keyway` policy's JSON config: which picker, and when a failing instance is skipped. */
export interface KeywayLbConfigJson {
  /** Default `round-robin`. */
  picker?: PickerName;
  downPolicy?: DownPolicy;
}

/** Delay before a new picker is published once every ready instance was down. */
const DOWN_RECHECK_MS = 250;

/** The parsed `keyway` policy config; invalid JSON is refused when the service config is parsed. */
export class KeywayLbConfig implements experimental.TypedLoadBalancingConfig {
  constructor(
    readonly picker: PickerName,
    readonly downPolicy: DownPolicy,
  ) {
    // Validates both now, so a bad service config fails where grpc-js parses it.
    new Balancer(createInstancePicker(picker), downPolicy);
  }

  getLoadBalancerName(): string {
    return LB_POLICY_NAME;
  }

  toJsonObject(): object {
    return { [LB_POLICY_NAME]: { picker: this.picker, downPolicy: this.downPolicy } };
  }

  static createFromJson(json: unknown): KeywayLbConfig {
    const { picker = "round-robin", downPolicy = {} } = (json ?? {}) as KeywayLbConfigJson;
    if (typeof downPolicy !== "object" || downPolicy === null)
      throw badRequest("downPolicy must be an object");
    return new KeywayLbConfig(picker, { ...downPolicy });
  }
}

interface Child {
  readonly leaf: experimental.LeafLoadBalancer;
  instance: Instance;
}

/** A stand-in instance for an endpoint of another resolver (weight 1, always up). */
function anonymousInstance(key: string): Instance {
  return {
    service: "",
    id: key,
    address: key,
    ports: {},
    metadata: {},
    weight: 1,
    zone: undefined,
    version: undefined,
    status: "up",
    registeredAt: "",
  };
}

/**
 * grpc-js load-balancing policy `keyway`: one pick_first child per endpoint (all kept
 * connected, as round_robin does), and a {@link BalancedPicker} over the ready ones driven by
 * the registry's pickers and down-instance policy. Instances come from the `keyway` resolver's
 * attribute; with another resolver each endpoint counts as an instance of weight 1.
 */
export class KeywayLoadBalancer implements experimental.LoadBalancer {
  private children = new Map<string, Child>();
  private balancer: Balancer | undefined;
  private configKey = "";
  private readonly unstarted = new UnstartedPicks();
  private readonly childHelper: experimental.ChannelControlHelper;
  private state = connectivityState.IDLE;
  private lastError: string | null = null;
  private note = "";
  private paused = false;
  private recheck: NodeJS.Timeout | undefined;

  constructor(private readonly helper: experimental.ChannelControlHelper) {
    this.childHelper = experimental.createChildChannelControlHelper(helper, {
      updateState: (state, _picker, errorMessage) => {
        // Ask for fresh addresses when a connection drops (the resolver coalesces requests).
        if (this.state === connectivityState.READY && state !== connectivityState.READY)
          helper.requestReresolution();
        if (errorMessage) this.lastError = errorMessage;
        this.publish();
      },
    });
  }

  updateAddressList(
    endpoints: experimental.StatusOr<experimental.Endpoint[]>,
    config: experimental.TypedLoadBalancingConfig,
    options: ChannelOptions,
    resolutionNote: string,
  ): boolean {
    if (!(config instanceof KeywayLbConfig)) return false;
    this.note = resolutionNote;
    if (!endpoints.ok) {
      if (this.children.size === 0)
        this.setState(
          connectivityState.TRANSIENT_FAILURE,
          new experimental.UnavailablePicker(endpoints.error),
          endpoints.error.details,
        );
      return true;
    }
    this.configure(config);
    const known = (options as Record<string, unknown>)[INSTANCES_ATTRIBUTE] as
      | Map<string, Instance>
      | undefined;
    this.paused = true;
    const next = new Map<string, Child>();
    for (const endpoint of endpoints.value) {
      const key = experimental.endpointToString(endpoint);
      const instance = known?.get(key) ?? anonymousInstance(key);
      const child = this.children.get(key) ?? this.startChild(endpoint, options, resolutionNote);
      child.instance = instance;
      next.set(key, child);
    }
    for (const [key, child] of this.children) {
      if (next.has(key)) continue;
      child.leaf.destroy();
      this.balancer?.forget(child.instance.id);
    }
    this.children = next;
    this.paused = false;
    this.publish();
    return true;
  }

  exitIdle(): void {
    for (const child of this.children.values()) child.leaf.exitIdle();
  }

  resetBackoff(): void {
    // The pick_first children own the connection backoff.
  }

  destroy(): void {
    clearTimeout(this.recheck);
    for (const child of this.children.values()) child.leaf.destroy();
    this.children.clear();
  }

  getTypeName(): string {
    return LB_POLICY_NAME;
  }

  /** A new Balancer when the picker or down policy changed; otherwise keep its statistics. */
  private configure(config: KeywayLbConfig): void {
    const key = JSON.stringify(config.toJsonObject());
    if (this.balancer !== undefined && key === this.configKey) return;
    this.configKey = key;
    this.balancer = new Balancer(createInstancePicker(config.picker), config.downPolicy);
  }

  private startChild(endpoint: experimental.Endpoint, options: ChannelOptions, note: string): Child {
    const leaf = new experimental.LeafLoadBalancer(endpoint, this.childHelper, options, note);
    leaf.startConnecting();
    return { leaf, instance: anonymousInstance(experimental.endpointToString(endpoint)) };
  }

  /** Derives the channel state and picker from the children, as round_robin does. */
  private publish(): void {
    if (this.paused) return;
    const children = [...this.children.values()];
    const ready: ReadyChild[] = children
      .filter((c) => c.leaf.getConnectivityState() === connectivityState.READY)
      .map((c) => ({ instance: c.instance, picker: c.leaf.getPicker() }));
    const has = (state: connectivityState) => children.some((c) => c.leaf.getConnectivityState() === state);
    if (ready.length > 0 && this.balancer !== undefined) {
      const picker = new BalancedPicker(ready, this.balancer, this.unstarted, () => this.allDown());
      this.setState(connectivityState.READY, picker, null);
    } else if (has(connectivityState.CONNECTING)) {
      this.setState(connectivityState.CONNECTING, new experimental.QueuePicker(this), null);
    } else if (children.length === 0 || has(connectivityState.TRANSIENT_FAILURE)) {
      const details =
        children.length === 0
          ? `keyway: no instance to call (${this.note || "no addresses resolved"})`
          : `keyway: no connection to any instance (${this.note}); last error: ${this.lastError}`;
      this.setState(
        connectivityState.TRANSIENT_FAILURE,
        new experimental.UnavailablePicker({ details }),
        details,
      );
    } else {
      this.setState(connectivityState.IDLE, new experimental.QueuePicker(this), null);
    }
    // Keep every endpoint connected, so a pick never waits for a connection.
    for (const child of children)
      if (child.leaf.getConnectivityState() === connectivityState.IDLE) child.leaf.exitIdle();
  }

  /**
   * Every ready instance is down by the down policy: fail this pick (or queue it, for
   * wait-for-ready calls) and publish a new picker soon, so queued calls are picked again when
   * a down time ends.
   */
  private allDown(): string {
    this.recheck ??= setTimeout(() => {
      this.recheck = undefined;
      this.publish();
    }, DOWN_RECHECK_MS).unref();
    return `keyway: every ready instance is down after failed calls (down policy; ${this.note})`;
  }

  private setState(state: connectivityState, picker: experimental.Picker, error: string | null): void {
    this.state = state;
    this.helper.updateState(state, picker, error);
  }
}

/** Registers the `keyway` policy with grpc-js (idempotent). */
export function registerKeywayLoadBalancer(): void {
  if (experimental.isLoadBalancerNameRegistered(LB_POLICY_NAME)) return;
  experimental.registerLoadBalancerType(LB_POLICY_NAME, KeywayLoadBalancer, KeywayLbConfig);
}
