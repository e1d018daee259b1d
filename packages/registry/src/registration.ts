import { type Keyspace, KeywayError, op, type Session } from "@keyway/client";
import { EventEmitter } from "eventemitter3";
import { badRequest, RegistryError } from "./errors.js";
import {
  applyUpdate,
  checkName,
  type Instance,
  type InstanceInput,
  type InstanceUpdate,
  toInstance,
} from "./instance.js";
import type { KeyLayout } from "./layout.js";
import { pause, retryDelayMs } from "./retry.js";

/** Shortest and longest lease TTL of a registration, in seconds. */
export const MIN_TTL_SECONDS = 2;
/** @see MIN_TTL_SECONDS */
export const MAX_TTL_SECONDS = 3600;

/** What `register()` takes. */
export interface RegisterOptions {
  service: string;
  instance: InstanceInput;
  /**
   * TTL of the registration's lease, {@link MIN_TTL_SECONDS}..{@link MAX_TTL_SECONDS}; default
   * 10. A crashed process's instance disappears from discovery after at most this long.
   */
  ttlSeconds?: number;
}

/** Why a registration (re)wrote its key. */
export type RegisterCause = "start" | "leaseLost" | "deleted" | "watchFailed";

/** Status events of a {@link Registration}. */
export interface RegistrationEvents {
  /** The instance key was written under `leaseId` at `revision`. */
  registered: (info: { cause: RegisterCause; leaseId: bigint; revision: bigint }) => void;
  /** An attempt to keep the registration failed; it is retried with backoff until `close()`. */
  error: (error: unknown) => void;
}

/**
 * One registered instance, kept registered until `close()`: its key lives under a session's
 * lease; when the lease is lost (expired, revoked) a new session is created and the key put again,
 * and when someone deletes the key it is put back (the registration watches its own key).
 * `close()` revokes the lease, so discovery drops the instance at once.
 */
export class Registration extends EventEmitter<RegistrationEvents> implements AsyncDisposable {
  private session: Session | undefined;
  private readonly stop = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private revision = 0n;
  private current: Instance;
  /** The key the instance belongs under now, and the one last written (they differ after a move). */
  private currentKey: string;
  private writtenKey: string | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly keyspace: Keyspace,
    private readonly layout: KeyLayout,
    instance: Instance,
    private readonly ttlSeconds: number,
  ) {
    super();
    this.current = instance;
    this.currentKey = layout.instanceKey(instance);
  }

  /** @internal Validates, writes the key once (throwing on failure) and starts guarding it. */
  static async start(keyspace: Keyspace, layout: KeyLayout, options: RegisterOptions): Promise<Registration> {
    if (typeof options !== "object" || options === null)
      throw badRequest("register() takes { service, instance }");
    const { ttlSeconds = 10 } = options;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_TTL_SECONDS || ttlSeconds > MAX_TTL_SECONDS)
      throw badRequest(`ttlSeconds must be an integer in ${MIN_TTL_SECONDS}..${MAX_TTL_SECONDS}`);
    const service = checkName(options.service, "a service name");
    const instance = toInstance(service, layout.prepare(service, options.instance));
    const registration = new Registration(keyspace, layout, instance, ttlSeconds);
    try {
      await registration.establish("start");
    } catch (err) {
      await registration.session?.close().catch(() => undefined);
      throw err;
    }
    registration.loop = registration.run();
    return registration;
  }

  /**
   * The instance's key. It is fixed in the `keyway` and `go-endpoints` layouts; in the `dubbo`
   * layout an update() that changes the provider URL moves it.
   */
  get key(): string {
    return this.currentKey;
  }

  /** The instance as last written (or as it will be re-written). */
  get instance(): Instance {
    return this.current;
  }

  /** The lease the key is bound to now; undefined while re-registering. */
  get leaseId(): bigint | undefined {
    return this.session?.isLost === false ? this.session.leaseId : undefined;
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.stop.signal.aborted;
  }

  /**
   * Changes metadata, status, weight, zone, version or ports in place (e.g. `{ status:
   * "draining" }` before shutdown). The change is kept for later re-registrations; the write
   * goes to the current lease and fails like any put if no member answers.
   */
  async update(changes: InstanceUpdate): Promise<Instance> {
    if (this.isClosed) throw new RegistryError("closed", "the registration is closed");
    const next = applyUpdate(this.current, changes);
    // The layout refuses what it cannot store (e.g. a Dubbo URL parameter) before anything changes.
    this.layout.prepare(next.service, next);
    this.currentKey = this.layout.instanceKey(next);
    this.current = next;
    const session = this.session;
    if (session !== undefined && !session.isLost) await this.put(session);
    return this.current;
  }

  /** Deregisters at once: stops guarding the key and revokes its lease. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.stop.abort(new RegistryError("closed", "the registration is closed"));
    await this.loop;
    await this.session?.close().catch(() => undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Guards the key until closed: waits for something to fix, then repairs it with backoff. */
  private async run(): Promise<void> {
    for (;;) {
      let cause: RegisterCause | "moved" | undefined;
      try {
        cause = await this.watchOwnKey();
      } catch (err) {
        cause = "watchFailed";
        if (!this.isClosed) this.failed(err);
      }
      if (cause === undefined || this.isClosed) return;
      if (cause === "moved") {
        // update() moved the key: its txn (whose delete we saw) settles first. If it wrote the
        // new key, just watch that; if not, the new key is missing and written like a deleted one.
        await this.writing;
        if (this.writtenKey === this.currentKey) continue;
      }
      const why = cause === "moved" ? "deleted" : cause;
      if (!(await this.retrying(() => this.repair(why)))) return;
    }
  }

  /** Runs `step` until it succeeds (true) or the registration or its client is closed (false). */
  private async retrying(step: () => Promise<void>): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await step();
        return true;
      } catch (err) {
        if (this.isClosed) return false;
        this.failed(err);
        if (this.isClosed) return false;
        await pause(retryDelayMs(attempt), this.stop.signal);
        if (this.isClosed) return false;
      }
    }
  }

  /** Reports a failed attempt; a client closed under us ends the registration. */
  private failed(err: unknown): void {
    this.emit("error", err);
    if (KeywayError.is(err, "closed")) {
      this.stop.abort(err);
      this.session?.orphan();
    }
  }

  /**
   * After a failed watch (e.g. one that fell behind a compaction) a read decides: a key still
   * ours is left alone and watched from the read's revision, so discoverers see no churn;
   * anything else is written again.
   */
  private async repair(cause: RegisterCause): Promise<void> {
    const session = this.session;
    if (cause === "watchFailed" && session !== undefined && !session.isLost) {
      const read = await this.keyspace.range(this.key, { signal: this.stop.signal });
      const kv = read.kvs[0];
      if (kv?.lease === session.leaseId && kv.text() === this.layout.encode(this.current)) {
        this.revision = read.revision;
        return;
      }
    }
    await this.establish(cause);
  }

  /**
   * Watches the instance key for deletes from the revision of our last write; returns why the
   * key must be written again, or undefined once closed.
   */
  private async watchOwnKey(): Promise<RegisterCause | "moved" | undefined> {
    const session = this.session as Session;
    const signal = AbortSignal.any([this.stop.signal, session.signal]);
    const stopped = () => (this.isClosed ? undefined : "leaseLost");
    // A watcher only closes on an abort that happens after it was created.
    if (signal.aborted) return stopped();
    try {
      const options = { startRevision: this.revision + 1n, noPut: true, signal };
      const key = this.currentKey;
      for await (const _deleted of await this.keyspace.watch(key, options))
        return key === this.currentKey ? "deleted" : "moved";
    } catch (err) {
      // An abort while the watch is being created rejects it as closed.
      if (!signal.aborted) throw err;
    }
    return stopped();
  }

  /** Makes sure a live session exists and writes the key under its lease. */
  private async establish(cause: RegisterCause): Promise<void> {
    if (this.session === undefined || this.session.isLost) await this.renewSession();
    try {
      await this.put(this.session as Session);
    } catch (err) {
      // The lease was revoked before the keep-alive noticed: start over with a new one.
      if (!KeywayError.is(err, "leaseNotFound")) throw err;
      await this.renewSession();
      await this.put(this.session as Session);
    }
    this.emit("registered", { cause, leaseId: (this.session as Session).leaseId, revision: this.revision });
  }

  private async renewSession(): Promise<void> {
    this.session?.orphan();
    this.session = undefined;
    const session = await this.keyspace.session({ ttlSeconds: this.ttlSeconds, signal: this.stop.signal });
    if (this.isClosed) {
      await session.close().catch(() => undefined);
      throw this.stop.signal.reason;
    }
    this.session = session;
  }

  /** Writes the key; the write in flight is kept so the guard can wait for it. */
  private put(session: Session): Promise<void> {
    const writing = this.write(session);
    this.writing = writing.catch(() => undefined);
    return writing;
  }

  private async write(session: Session): Promise<void> {
    const key = this.currentKey;
    const value = this.layout.encode(this.current);
    const lease = { lease: session.leaseId };
    const signal = this.stop.signal;
    const old = this.writtenKey;
    // A moved key: the old one goes in the same txn, so no reader ever sees both.
    const result =
      old === undefined || old === key
        ? await this.keyspace.put(key, value, { ...lease, signal })
        : await this.keyspace
            .txn()
            .then(op.delete(old), op.put(key, value, lease))
            .commit({ signal });
    this.writtenKey = key;
    if (result.revision > this.revision) this.revision = result.revision;
  }
}
