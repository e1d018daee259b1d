import { authpb, etcdserverpb } from "@keyway/api";
import type { CallOptions } from "./call-options.js";
import { badRequest } from "./errors.js";
import { type Bytes, type RangeSelector, selectRange } from "./keys.js";
import type { Transport } from "./transport.js";

const AUTH = etcdserverpb.AuthService;

/** A permission kind of a role. */
export type PermissionType = "read" | "write" | "readwrite";

/** A role's permission on a key or range. */
export interface Permission {
  type: PermissionType;
  key: Buffer;
  /** Empty for a single key. */
  rangeEnd: Buffer;
}

const PERM_TYPES: Record<PermissionType, authpb.Permission_Type> = {
  read: authpb.Permission_Type.READ,
  write: authpb.Permission_Type.WRITE,
  readwrite: authpb.Permission_Type.READWRITE,
};

function name(value: string, what: string): string {
  if (typeof value !== "string" || value === "") throw badRequest(`${what} must be a non-empty string`);
  return value;
}

function toPermission(p: authpb.Permission): Permission {
  const type =
    (Object.keys(PERM_TYPES) as PermissionType[]).find((t) => PERM_TYPES[t] === p.permType) ?? "read";
  return { type, key: p.key, rangeEnd: p.rangeEnd };
}

/**
 * etcd's auth administration: users, roles, permissions, enable/disable. Reads are retried on
 * UNAVAILABLE; changes are never resent. (Authentication itself is the client's `auth` option.)
 */
export class AuthClient {
  constructor(private readonly transport: Transport) {}

  /** Turns auth on (needs a `root` user with the `root` role). */
  async enable(options: CallOptions = {}): Promise<void> {
    await this.transport.unary(AUTH.authEnable, {}, "unsafe", options);
  }

  /** Turns auth off. */
  async disable(options: CallOptions = {}): Promise<void> {
    await this.transport.unary(AUTH.authDisable, {}, "unsafe", options);
  }

  /** Adds a user (with `noPassword` for certificate-only users). */
  async userAdd(
    user: string,
    password: string,
    options: CallOptions & { noPassword?: boolean } = {},
  ): Promise<void> {
    const { noPassword = false, ...call } = options;
    const request = { name: name(user, "user"), password, options: { noPassword }, hashedPassword: "" };
    await this.transport.unary(AUTH.userAdd, request, "unsafe", call);
  }

  /** The roles granted to a user. */
  async userGet(user: string, options: CallOptions = {}): Promise<string[]> {
    const r = await this.transport.unary(AUTH.userGet, { name: name(user, "user") }, "safe", options);
    return r.roles;
  }

  /** Names of every user. */
  async userList(options: CallOptions = {}): Promise<string[]> {
    return (await this.transport.unary(AUTH.userList, {}, "safe", options)).users;
  }

  /** Deletes a user. */
  async userDelete(user: string, options: CallOptions = {}): Promise<void> {
    await this.transport.unary(AUTH.userDelete, { name: name(user, "user") }, "unsafe", options);
  }

  /** Sets a user's password. */
  async userChangePassword(user: string, password: string, options: CallOptions = {}): Promise<void> {
    const request = { name: name(user, "user"), password, hashedPassword: "" };
    await this.transport.unary(AUTH.userChangePassword, request, "unsafe", options);
  }

  /** Grants a role to a user. */
  async userGrantRole(user: string, role: string, options: CallOptions = {}): Promise<void> {
    const request = { user: name(user, "user"), role: name(role, "role") };
    await this.transport.unary(AUTH.userGrantRole, request, "unsafe", options);
  }

  /** Takes a role from a user. */
  async userRevokeRole(user: string, role: string, options: CallOptions = {}): Promise<void> {
    const request = { name: name(user, "user"), role: name(role, "role") };
    await this.transport.unary(AUTH.userRevokeRole, request, "unsafe", options);
  }

  /** Adds a role. */
  async roleAdd(role: string, options: CallOptions = {}): Promise<void> {
    await this.transport.unary(AUTH.roleAdd, { name: name(role, "role") }, "unsafe", options);
  }

  /** The permissions of a role. */
  async roleGet(role: string, options: CallOptions = {}): Promise<Permission[]> {
    const r = await this.transport.unary(AUTH.roleGet, { role: name(role, "role") }, "safe", options);
    return r.perm.map(toPermission);
  }

  /** Names of every role (etcd 3.4 does not list the built-in `root`). */
  async roleList(options: CallOptions = {}): Promise<string[]> {
    return (await this.transport.unary(AUTH.roleList, {}, "safe", options)).roles;
  }

  /** Deletes a role. */
  async roleDelete(role: string, options: CallOptions = {}): Promise<void> {
    await this.transport.unary(AUTH.roleDelete, { role: name(role, "role") }, "unsafe", options);
  }

  /** Grants `type` access on a key or range (`{ prefix: true }`, `{ end }`, `{ fromKey: true }`). */
  async roleGrantPermission(
    role: string,
    type: PermissionType,
    key: Bytes,
    range: RangeSelector & CallOptions = {},
  ): Promise<void> {
    const { signal, timeoutMs, ...selector } = range;
    const permType = PERM_TYPES[type];
    if (permType === undefined) throw badRequest(`invalid permission type ${JSON.stringify(type)}`);
    const perm = { permType, ...selectRange(key, selector) };
    const call: CallOptions = {};
    if (signal !== undefined) call.signal = signal;
    if (timeoutMs !== undefined) call.timeoutMs = timeoutMs;
    await this.transport.unary(AUTH.roleGrantPermission, { name: name(role, "role"), perm }, "unsafe", call);
  }

  /** Revokes a role's permission on a key or range. */
  async roleRevokePermission(role: string, key: Bytes, range: RangeSelector = {}): Promise<void> {
    const request = { role: name(role, "role"), ...selectRange(key, range) };
    await this.transport.unary(AUTH.roleRevokePermission, request, "unsafe", {});
  }
}
