import type { EventEmitter } from "eventemitter3";
import type { ClientEvents } from "./client-events.js";
import { Endpoint, type EndpointSettings } from "./endpoint.js";
import { badRequest, closedError } from "./errors.js";
import type { Picker } from "./picker.js";

/** The endpoint settings a pool fills in itself. */
export type PoolEndpointSettings = Omit<EndpointSettings, "onHealth">;

/**
 * The client's endpoints and the picker that spreads calls over the healthy ones. When every
 * endpoint is down the pick falls back to all of them: a down mark is a hint, not a verdict, and
 * grpc-js may well connect again before our probe notices.
 */
export class EndpointPool {
  private endpoints: Endpoint[] = [];
  private healthyList: Endpoint[] = [];
  private closed = false;

  constructor(
    urls: readonly string[],
    private readonly settings: PoolEndpointSettings,
    private readonly picker: Picker<Endpoint>,
    private readonly events: EventEmitter<ClientEvents>,
  ) {
    if (urls.length === 0) throw badRequest("at least one endpoint is required");
    this.setEndpoints(urls);
  }

  /** Current endpoints, in configuration order. */
  all(): readonly Endpoint[] {
    return this.endpoints;
  }

  /** The endpoint with this URL, if configured. */
  byUrl(url: string): Endpoint | undefined {
    return this.endpoints.find((e) => e.url === url);
  }

  /** Picks an endpoint for a call, avoiding `exclude` (endpoints this call already failed on). */
  pick(exclude?: ReadonlySet<Endpoint>): Endpoint {
    if (this.closed) throw closedError("client");
    const noExclusions = exclude === undefined || exclude.size === 0;
    const pool = noExclusions ? this.healthyList : this.healthyList.filter((e) => !exclude.has(e));
    const fallback = () => {
      const untried = noExclusions ? this.endpoints : this.endpoints.filter((e) => !exclude.has(e));
      return untried.length > 0 ? untried : this.endpoints;
    };
    const chosen = this.picker.pick(pool.length > 0 ? pool : fallback());
    if (chosen === undefined) throw closedError("client");
    return chosen;
  }

  /** Replaces the endpoint list, keeping the channels of URLs that stay. */
  setEndpoints(urls: readonly string[]): void {
    const keep = new Map(this.endpoints.map((e) => [e.url, e]));
    const next = [...new Set(urls)].map((url) => {
      const existing = keep.get(url);
      keep.delete(url);
      return (
        existing ??
        new Endpoint(url, { ...this.settings, onHealth: (e, up, cause) => this.onHealth(e, up, cause) })
      );
    });
    for (const removed of keep.values()) removed.close();
    this.endpoints = next;
    this.refreshHealthy();
  }

  private onHealth(endpoint: Endpoint, healthy: boolean, cause: unknown): void {
    this.refreshHealthy();
    if (healthy) this.events.emit("endpoint-up", endpoint.url);
    else this.events.emit("endpoint-down", endpoint.url, cause);
  }

  private refreshHealthy(): void {
    this.healthyList = this.endpoints.filter((e) => e.healthy);
  }

  /** Closes every channel. */
  close(): void {
    this.closed = true;
    for (const endpoint of this.endpoints) endpoint.close();
  }
}
