import { badRequest } from "./errors.js";
import { checkName } from "./instance.js";

/** Default root of the registry's keys. */
export const DEFAULT_PREFIX = "keyway/registry";

/**
 * Keyway's key layout: `<prefix>/services/<service>/<instance-id>`, one key per instance, bound to
 * the registering process's lease. Service names and ids contain no `/`, so a service's prefix
 * never matches another service's keys.
 */
export class Layout {
  constructor(private readonly prefix: string) {
    if (typeof prefix !== "string" || prefix.length === 0 || prefix.endsWith("/"))
      throw badRequest("the registry prefix must be a non-empty string not ending with /");
  }

  /** The prefix every instance key of `service` starts with (ends with `/`). */
  servicePrefix(service: string): string {
    return `${this.prefix}/services/${checkName(service, "a service name")}/`;
  }

  /** The key of one instance. */
  instanceKey(service: string, id: string): string {
    return this.servicePrefix(service) + id;
  }
}
