import { badRequest } from "./errors.js";
import type { Instance, InstanceStatus } from "./instance.js";

/** Which instances a discovery shows; every given condition must hold. */
export interface InstanceFilter {
  /** Only these zones (an instance without a zone never matches). */
  zone?: string | readonly string[];
  /** Only these statuses. */
  status?: InstanceStatus | readonly InstanceStatus[];
  /** Only instances whose metadata has every one of these entries. */
  metadata?: Readonly<Record<string, string>>;
  /** Any further condition. */
  where?: (instance: Instance) => boolean;
}

const asSet = <T>(value: T | readonly T[] | undefined): ReadonlySet<T> | undefined =>
  value === undefined ? undefined : new Set(Array.isArray(value) ? value : [value as T]);

/** Compiles a filter to a predicate (validating its shape first). */
export function compileFilter(filter: InstanceFilter = {}): (instance: Instance) => boolean {
  if (typeof filter !== "object" || filter === null) throw badRequest("filter must be an object");
  if (filter.where !== undefined && typeof filter.where !== "function")
    throw badRequest("filter.where must be a function");
  const zones = asSet(filter.zone);
  const statuses = asSet(filter.status);
  const metadata = Object.entries(filter.metadata ?? {});
  return (instance) =>
    (zones === undefined || (instance.zone !== undefined && zones.has(instance.zone))) &&
    (statuses === undefined || statuses.has(instance.status)) &&
    metadata.every(([key, value]) => instance.metadata[key] === value) &&
    (filter.where === undefined || filter.where(instance));
}
