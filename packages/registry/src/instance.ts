import { randomUUID } from "node:crypto";
import { badRequest, RegistryError } from "./errors.js";

/** Whether an instance takes traffic: `up` yes; `draining` (shutting down) and `down` no. */
export type InstanceStatus = "up" | "draining" | "down";

/** What a service instance registers; every field but `address` has a default. */
export interface InstanceInput {
  /** Unique within the service; letters, digits, `.`, `_`, `-`, `:`; default a random UUID. */
  id?: string;
  /** Where to reach it: `host:port`, a URL, or a host name (no whitespace, at most 255 bytes). */
  address: string;
  /** Named ports (`{ grpc: 50051, http: 8080 }`), each 1..65535. */
  ports?: Record<string, number>;
  /** Free-form string metadata; at most {@link MAX_METADATA_BYTES} bytes as JSON. */
  metadata?: Record<string, string>;
  /** Relative share for weighted pickers, 0..{@link MAX_WEIGHT}; default 1. */
  weight?: number;
  /** Zone, region or cluster tag, for zone filters. */
  zone?: string | undefined;
  /** The instance's software version. */
  version?: string | undefined;
  /** Default `up`. */
  status?: InstanceStatus;
}

/** A registered instance, as discovery reports it (and as its value stores it). */
export interface Instance {
  readonly service: string;
  readonly id: string;
  readonly address: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly weight: number;
  readonly zone: string | undefined;
  readonly version: string | undefined;
  readonly status: InstanceStatus;
  /** When this registration was first written (ISO 8601); kept across updates and re-registrations. */
  readonly registeredAt: string;
}

/** The fields `update()` may change. */
export type InstanceUpdate = Pick<
  InstanceInput,
  "metadata" | "weight" | "status" | "version" | "zone" | "ports"
>;

/** Version of the stored JSON value; a reader refuses values of another version. */
export const VALUE_FORMAT = 1;
/** Largest metadata map, in bytes of its JSON encoding. */
export const MAX_METADATA_BYTES = 4096;
/** Longest service name, instance id, zone, version or port name, in bytes. */
export const MAX_NAME_BYTES = 128;
/** Largest weight. */
export const MAX_WEIGHT = 10_000;
const MAX_ADDRESS_BYTES = 255;
const MAX_PORTS = 32;
const NAME = /^[A-Za-z0-9._:-]+$/;
const STATUSES: ReadonlySet<string> = new Set<InstanceStatus>(["up", "draining", "down"]);

/** Validates a service name or instance id: 1..128 bytes of letters, digits, `.`, `_`, `-`, `:`. */
export function checkName(value: unknown, what: string): string {
  if (typeof value !== "string") throw badRequest(`${what} must be a string, got ${typeof value}`);
  if (value.length === 0 || value.length > MAX_NAME_BYTES || !NAME.test(value))
    throw badRequest(
      `${what} must be 1..${MAX_NAME_BYTES} letters, digits, '.', '_', '-' or ':', got ${JSON.stringify(value)}`,
    );
  return value;
}

function checkText(value: unknown, what: string, max: number): string {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    Buffer.byteLength(value) > max ||
    /[\s\0]/.test(value)
  )
    throw badRequest(`${what} must be a non-empty string of at most ${max} bytes without whitespace`);
  return value;
}

function optionalText(value: unknown, what: string): string | undefined {
  return value === undefined ? undefined : checkText(value, what, MAX_NAME_BYTES);
}

function checkPorts(value: unknown): Record<string, number> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) throw badRequest("ports must be an object");
  const entries = Object.entries(value);
  if (entries.length > MAX_PORTS) throw badRequest(`at most ${MAX_PORTS} ports`);
  for (const [name, port] of entries) {
    checkName(name, "a port name");
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw badRequest(`port ${name} must be 1..65535`);
  }
  return Object.fromEntries(entries) as Record<string, number>;
}

function checkMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) throw badRequest("metadata must be an object");
  for (const [key, v] of Object.entries(value))
    if (typeof v !== "string") throw badRequest(`metadata value of ${JSON.stringify(key)} must be a string`);
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > MAX_METADATA_BYTES)
    throw badRequest(`metadata is ${bytes} bytes as JSON; the limit is ${MAX_METADATA_BYTES}`);
  return { ...(value as Record<string, string>) };
}

function checkWeight(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_WEIGHT)
    throw badRequest(`weight must be a number in 0..${MAX_WEIGHT}`);
  return value;
}

function checkStatus(value: unknown): InstanceStatus {
  if (value === undefined) return "up";
  if (typeof value !== "string" || !STATUSES.has(value))
    throw badRequest("status must be up, draining or down");
  return value as InstanceStatus;
}

/** Validates what a caller registers and fills in the defaults; throws `badRequest`. */
export function toInstance(
  service: string,
  input: InstanceInput,
  registeredAt = new Date().toISOString(),
): Instance {
  if (typeof input !== "object" || input === null)
    throw badRequest("an instance ({ address, ... }) is required");
  return {
    service: checkName(service, "a service name"),
    id: input.id === undefined ? randomUUID() : checkName(input.id, "an instance id"),
    address: checkText(input.address, "address", MAX_ADDRESS_BYTES),
    ports: checkPorts(input.ports),
    metadata: checkMetadata(input.metadata),
    weight: checkWeight(input.weight),
    zone: optionalText(input.zone, "zone"),
    version: optionalText(input.version, "version"),
    status: checkStatus(input.status),
    registeredAt,
  };
}

/** The instance with `changes` applied (validated the same way as a registration). */
export function applyUpdate(instance: Instance, changes: InstanceUpdate): Instance {
  if (typeof changes !== "object" || changes === null) throw badRequest("update() takes an object");
  const allowed = new Set(["metadata", "weight", "status", "version", "zone", "ports"]);
  for (const key of Object.keys(changes))
    if (!allowed.has(key)) throw badRequest(`update() cannot change ${JSON.stringify(key)}`);
  return toInstance(instance.service, { ...instance, ...changes }, instance.registeredAt);
}

/** The stored value: versioned JSON. */
export function encodeInstance(instance: Instance): string {
  return JSON.stringify({ format: VALUE_FORMAT, ...instance });
}

/** Parses a stored value of `service`; throws `corrupt` for anything that is not a valid instance. */
export function decodeInstance(service: string, id: string, value: Buffer): Instance {
  try {
    const parsed = JSON.parse(value.toString("utf8")) as Record<string, unknown>;
    if (parsed.format !== VALUE_FORMAT) throw new Error(`unknown value format ${String(parsed.format)}`);
    if (parsed.id !== id || parsed.service !== service)
      throw new Error("id or service does not match the key");
    if (typeof parsed.registeredAt !== "string") throw new Error("registeredAt is missing");
    return toInstance(service, parsed as unknown as InstanceInput, parsed.registeredAt);
  } catch (err) {
    throw new RegistryError("corrupt", `${service}/${id}: not a registry instance value`, err);
  }
}
