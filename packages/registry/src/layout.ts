import { badRequest, RegistryError } from "./errors.js";
import { checkName, decodeInstance, encodeInstance, type Instance, type InstanceInput } from "./instance.js";

/** Default root of the registry's keys. */
export const DEFAULT_PREFIX = "keyway/registry";

/**
 * Where and how one instance is stored: the key of an instance, the prefix a service's keys
 * share, the value, and the way back from a listed key and value to an instance. Keyway's own
 * layout is {@link Layout}; `goEndpointsLayout()` and `dubboLayout()` speak other systems' formats.
 */
export interface KeyLayout {
  /** Short name for messages (`keyway`, `go-endpoints`, `dubbo`). */
  readonly name: string;
  /** The prefix every instance key of `service` starts with (ends with `/`). */
  servicePrefix(service: string): string;
  /**
   * Checks what the layout can store and fills in the layout's default id; throws `badRequest`.
   * Runs before anything is written.
   */
  prepare(service: string, input: InstanceInput): InstanceInput;
  /** The key of an instance (it may depend on more than the id, as Dubbo's does). */
  instanceKey(instance: Instance): string;
  /** The stored value. */
  encode(instance: Instance): string;
  /**
   * The instance stored under `name` (the key after the service prefix); throws `corrupt` for
   * anything that is not an instance in this layout.
   */
  decode(service: string, name: string, value: Buffer): Instance;
}

/** Names of the built-in layouts (with their default options). */
export type LayoutName = "keyway" | "go-endpoints" | "dubbo";

/**
 * Keyway's key layout: `<prefix>/services/<service>/<instance-id>`, one key per instance, bound to
 * the registering process's lease, the value versioned JSON. Service names and ids contain no
 * `/`, so a service's prefix never matches another service's keys.
 */
export class Layout implements KeyLayout {
  readonly name = "keyway";

  constructor(private readonly prefix: string) {
    if (typeof prefix !== "string" || prefix.length === 0 || prefix.endsWith("/"))
      throw badRequest("the registry prefix must be a non-empty string not ending with /");
  }

  servicePrefix(service: string): string {
    return `${this.prefix}/services/${checkName(service, "a service name")}/`;
  }

  prepare(_service: string, input: InstanceInput): InstanceInput {
    return input;
  }

  instanceKey(instance: Instance): string {
    return this.servicePrefix(instance.service) + instance.id;
  }

  encode(instance: Instance): string {
    return encodeInstance(instance);
  }

  decode(service: string, name: string, value: Buffer): Instance {
    return decodeInstance(service, name, value);
  }
}

/** Runs `parse`, turning any failure into a `corrupt` error naming the key. */
export function corruptUnless<T>(layout: string, key: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new RegistryError("corrupt", `${key}: not a ${layout} registry value`, err);
  }
}
