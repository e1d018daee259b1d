import { badRequest } from "./errors.js";
import { goJson } from "./go-json.js";
import { checkName, type Instance, type InstanceInput, toInstance } from "./instance.js";
import { corruptUnless, type KeyLayout } from "./layout.js";

/** Options of {@link goEndpointsLayout}. */
export interface GoEndpointsOptions {
  /**
   * Put in front of the service name to make the Go target (`<prefix>/<service>`); default none,
   * so the target is the service name, as in `grpc.Dial("etcd:///<service>")`.
   */
  prefix?: string;
}

/** `Op` of the stored update: Go's `endpoints.Add`; a removal is a deleted key, never a value. */
const OP_ADD = 0;
/** Our fields kept in Go's free-form `Metadata`. */
const FIELDS = ["metadata", "ports", "registeredAt", "status", "version", "weight", "zone"] as const;

/**
 * etcd's Go `naming/endpoints` layout (`endpoints.Manager`, read by grpc-go's `etcd:///` resolver):
 * key `<target>/<id>` (by Go's convention the id is the address, our default here), value the
 * JSON of Go's `internal.Update` — `{"Op":0,"Addr":"host:port","Metadata":"…"}` with Go's field
 * names and order. Our other fields ride in `Metadata` as a JSON *string*: the resolver copies
 * `Metadata` into grpc-go's `resolver.Address`, which its balancer uses as a map key, so an
 * object there (a Go map) panics the Go client ("hash of unhashable type"); a string is safe.
 * A Go registration's own `Metadata` is read back from an object or such a string (unknown
 * string entries become metadata); any other `Metadata` is ignored.
 */
export function goEndpointsLayout(options: GoEndpointsOptions = {}): KeyLayout {
  const { prefix } = options;
  if (prefix !== undefined && (typeof prefix !== "string" || prefix === "" || prefix.endsWith("/")))
    throw badRequest("the go-endpoints prefix must be a non-empty string not ending with /");
  const target = (service: string) =>
    prefix === undefined
      ? checkName(service, "a service name")
      : `${prefix}/${checkName(service, "a service name")}`;
  return {
    name: "go-endpoints",
    servicePrefix: (service) => `${target(service)}/`,
    prepare: (_service, input) => {
      if (input?.id !== undefined || typeof input?.address !== "string") return input;
      // Go's convention is `<target>/<addr>`; an address that is not a valid id gets a UUID.
      return /^[A-Za-z0-9._:-]{1,128}$/.test(input.address) ? { ...input, id: input.address } : input;
    },
    instanceKey: (instance) => `${target(instance.service)}/${instance.id}`,
    encode: (instance) => {
      const metadata: Record<string, unknown> = {};
      for (const field of FIELDS) metadata[field] = instance[field];
      if (instance.version === undefined) delete metadata.version;
      if (Object.keys(instance.metadata).length === 0) delete metadata.metadata;
      if (Object.keys(instance.ports).length === 0) delete metadata.ports;
      // Go's struct field order (Op, Addr, Metadata), Go's escaping inside.
      return `{"Op":${OP_ADD},"Addr":${goJson(instance.address)},"Metadata":${goJson(goJson(metadata))}}`;
    },
    decode: (service, name, value) =>
      corruptUnless("go-endpoints", `${target(service)}/${name}`, () => decodeUpdate(service, name, value)),
  };
}

/** Parses Go's `internal.Update`; like Go's reader it ignores `Op` (a put is always an add). */
function decodeUpdate(service: string, id: string, value: Buffer): Instance {
  const update = JSON.parse(value.toString("utf8")) as Record<string, unknown>;
  if (typeof update !== "object" || update === null || typeof update.Addr !== "string")
    throw new Error("Addr is missing");
  const extra = typeof update.Metadata === "string" ? parseObject(update.Metadata) : update.Metadata;
  const input: Record<string, unknown> = { id, address: update.Addr };
  let registeredAt = "";
  if (typeof extra === "object" && extra !== null && !Array.isArray(extra)) {
    const known = new Set<string>(FIELDS);
    const loose: Record<string, string> = {};
    for (const [key, v] of Object.entries(extra)) {
      if (known.has(key)) input[key] = v;
      else if (typeof v === "string") loose[key] = v;
    }
    if (typeof input.registeredAt === "string") registeredAt = input.registeredAt;
    delete input.registeredAt;
    const own = input.metadata;
    if (own !== undefined && (typeof own !== "object" || own === null || Array.isArray(own)))
      throw new Error("Metadata.metadata is not an object");
    input.metadata = { ...loose, ...(own as Record<string, string> | undefined) };
  }
  return toInstance(service, input as unknown as InstanceInput, registeredAt);
}

/** The object a JSON string holds, or undefined for anything else. */
function parseObject(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
