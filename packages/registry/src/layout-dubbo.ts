import { dubboDecode, dubboEncode, formatDubboUrl, parseDubboUrl, splitHostPort } from "./dubbo-url.js";
import { badRequest } from "./errors.js";
import { checkName, type Instance, type InstanceInput, type InstanceStatus, toInstance } from "./instance.js";
import { corruptUnless, type KeyLayout } from "./layout.js";

/** Options of {@link dubboLayout}. */
export interface DubboOptions {
  /** Dubbo's registry group, the first path segment; default `dubbo`. */
  root?: string;
}

/** Dubbo's weight of a provider URL without `weight`. */
const DUBBO_DEFAULT_WEIGHT = 100;
/** URL parameters the layout writes itself; metadata may not use them. */
const RESERVED = new Set([
  "interface",
  "side",
  "timestamp",
  "weight",
  "zone",
  "enabled",
  "disabled",
  "category",
  "keyway.status",
  "keyway.version",
]);
const PARAM_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Dubbo's interface-level etcd3 registry layout (Java `EtcdRegistry`, dubbo-go `etcdv3`): key
 * `/<root>/<URL-encoded interface>/providers/<URL-encoded provider URL>`, value empty (as
 * dubbo-go writes it; Java writes the lease id; readers use only the key). The provider URL is
 * `<protocol>://<host>:<port>/<interface>?<parameters sorted>`; a provider is identified by
 * `host:port` (the instance id), its protocol is its one named port. `weight` (Dubbo's default
 * 100), `zone`, `timestamp` (= `registeredAt`) map to our fields; a status other than `up` is
 * written as `enabled=false` (Dubbo consumers skip such providers) plus `keyway.status`; other
 * parameters are metadata both ways. Changing any of these changes the key, so `update()` moves
 * the registration to its new key in one txn.
 */
export function dubboLayout(options: DubboOptions = {}): KeyLayout {
  const { root = "dubbo" } = options;
  if (typeof root !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(root))
    throw badRequest("the dubbo root must be 1..128 letters, digits, '.', '_' or '-'");
  const providers = (service: string) =>
    `/${root}/${dubboEncode(checkName(service, "a service name"))}/providers/`;
  return {
    name: "dubbo",
    servicePrefix: providers,
    prepare: prepareProvider,
    instanceKey: (instance) => providers(instance.service) + dubboEncode(formatDubboUrl(toUrl(instance))),
    encode: () => "",
    decode: (service, name, _value) =>
      corruptUnless("dubbo", providers(service) + name, () => fromUrl(service, dubboDecode(name))),
  };
}

/** Refuses what a provider URL cannot carry; the id defaults to (and must be) `host:port`. */
function prepareProvider(_service: string, input: InstanceInput): InstanceInput {
  if (typeof input !== "object" || input === null || typeof input.address !== "string") return input;
  const hostPort = splitHostPort(input.address);
  if (hostPort === undefined) throw badRequest("the dubbo layout needs an address host:port");
  const id = idOf(hostPort.host, hostPort.port);
  if (input.id !== undefined && input.id !== id)
    throw badRequest(`the dubbo layout identifies a provider by host:port; its id must be ${id}`);
  const ports = Object.entries(input.ports ?? {});
  if (ports.length > 1 || (ports.length === 1 && ports[0]?.[1] !== hostPort.port))
    throw badRequest(
      "the dubbo layout takes at most one port, named by its protocol, equal to the address's",
    );
  for (const [name, value] of Object.entries(input.metadata ?? {})) {
    if (!PARAM_NAME.test(name) || RESERVED.has(name))
      throw badRequest(`metadata ${JSON.stringify(name)} cannot be a dubbo URL parameter`);
    if (typeof value === "string" && (value === "" || value.includes("&")))
      throw badRequest(`metadata ${name} must be non-empty and without '&' in the dubbo layout`);
  }
  return { ...input, id };
}

const idOf = (host: string, port: number) => `${host.replace(/^\[|\]$/g, "")}:${port}`;

function toUrl(instance: Instance): Parameters<typeof formatDubboUrl>[0] {
  const { host, port } = splitHostPort(instance.address) as { host: string; port: number };
  const params = new Map(Object.entries(instance.metadata));
  params.set("interface", instance.service);
  params.set("side", "provider");
  params.set("weight", String(instance.weight));
  const timestamp = Date.parse(instance.registeredAt);
  if (Number.isFinite(timestamp)) params.set("timestamp", String(timestamp));
  if (instance.zone !== undefined) params.set("zone", instance.zone);
  if (instance.version !== undefined) params.set("keyway.version", instance.version);
  if (instance.status !== "up") {
    params.set("enabled", "false");
    params.set("keyway.status", instance.status);
  }
  const protocol = Object.keys(instance.ports)[0] ?? "dubbo";
  return { protocol, host, port, path: instance.service, params };
}

function fromUrl(service: string, text: string): Instance {
  const url = parseDubboUrl(text);
  const params = new Map(url.params);
  const take = (name: string) => {
    const value = params.get(name);
    params.delete(name);
    return value;
  };
  if ((take("interface") ?? url.path) !== service) throw new Error("the URL is of another interface");
  const side = take("side");
  if (side !== undefined && side !== "provider") throw new Error(`side=${side} is not a provider`);
  take("category");
  const weight = take("weight");
  const timestamp = Number(take("timestamp"));
  const disabled = params.has("disabled") ? take("disabled") === "true" : take("enabled") === "false";
  params.delete("enabled");
  const keywayStatus = take("keyway.status");
  const status: InstanceStatus = !disabled ? "up" : keywayStatus === "draining" ? "draining" : "down";
  const input: InstanceInput = {
    id: idOf(url.host, url.port),
    address: `${url.host}:${url.port}`,
    ports: { [url.protocol]: url.port },
    weight: weight === undefined ? DUBBO_DEFAULT_WEIGHT : Number(weight),
    zone: take("zone"),
    version: take("keyway.version"),
    status,
    metadata: Object.fromEntries(params),
  };
  const registeredAt = Number.isFinite(timestamp) && timestamp > 0 ? new Date(timestamp).toISOString() : "";
  return toInstance(service, input, registeredAt);
}
