import { type Keyspace, type KeyValue, KeywayError, listAndWatch, type Picker } from "@keyway/client";
import { EventEmitter } from "eventemitter3";
import { Balancer, type DownPolicy, type Picked } from "./balancer.js";
import { badRequest, RegistryError } from "./errors.js";
import { compileFilter, type InstanceFilter } from "./filter.js";
import type { Instance } from "./instance.js";
import type { KeyLayout } from "./layout.js";
import { type Candidate, createInstancePicker, type PickerName, type RandomSource } from "./pickers.js";
import { Protector, type ProtectThreshold } from "./protect.js";
import { pause, retryDelayMs } from "./retry.js";
import { type ZoneAffinity, ZonePreference } from "./zone.js";

/** Options of `registry.discover(service, options)`. */
export interface DiscoverOptions {
  /** Which instances to show (default all). */
  filter?: InstanceFilter;
  /** How `pick()` chooses: a policy name (default `round-robin`) or any client `Picker`. */
  picker?: PickerName | Picker<Candidate>;
  /** When a failing instance is skipped by `pick()`. */
  downPolicy?: DownPolicy;
  /** Random source of the `random` and `p2c-ewma` pickers (seed it for reproducible tests). */
  random?: RandomSource;
  /** Clock of the down-instance policy, the protect threshold and default latencies (ms). */
  clock?: () => number;
  /** Prefer instances of the caller's zone in `pick()`, falling back to all zones. */
  zoneAffinity?: ZoneAffinity;
  /** Opt-in: hold removals during a mass expiry (Nacos's protect threshold). */
  protect?: ProtectThreshold;
}

/** Change events of a {@link Discovery} (after a re-list, the difference is emitted). */
export interface DiscoveryEvents {
  added: (instance: Instance) => void;
  removed: (instance: Instance) => void;
  updated: (instance: Instance, previous: Instance) => void;
  /** A skipped value (`corrupt`) or a failed list/watch, which is retried with backoff. */
  error: (error: unknown) => void;
  /**
   * The protect threshold started (`active`: removals are held, the instances stay shown) or
   * ended (the held instances that are still gone are `removed` right after); `peak` is the
   * count it started from.
   */
  protection: (state: { active: boolean; live: number; peak: number }) => void;
}

/** Refuses options of the wrong shape before anything starts (the parts check their own values). */
function checkOptions(options: DiscoverOptions): void {
  if (typeof options !== "object" || options === null)
    throw badRequest("discover() options must be an object");
  for (const name of ["random", "clock"] as const)
    if (options[name] !== undefined && typeof options[name] !== "function")
      throw badRequest(`discover() option ${name} must be a function`);
}

interface Known {
  instance: Instance;
  modRevision: bigint;
}

/**
 * The live instances of one service: lists the service prefix at revision R, then watches from
 * R+1; when the watch falls behind a compaction (e.g. after a long disconnect) or fails, it lists
 * again and emits the difference, so its view converges to the store's.
 */
export class Discovery extends EventEmitter<DiscoveryEvents> implements AsyncDisposable {
  /** Resolves once the first listing is loaded; rejects if closed before. */
  readonly ready: Promise<void>;
  private settleReady!: (err?: unknown) => void;
  /** Live instances by the key's name under the service prefix (the id, but for Dubbo's URL). */
  private readonly known = new Map<string, Known>();
  private readonly prefix: string;
  /** Instances gone from the store but still shown while the protect threshold holds them. */
  private readonly held = new Map<string, Instance>();
  private readonly protector: Protector | undefined;
  private protectTimer: NodeJS.Timeout | undefined;
  private view: readonly Instance[] | undefined;
  private upView: readonly Instance[] | undefined;
  private readonly stop = new AbortController();
  private readonly matches: (instance: Instance) => boolean;
  private readonly balancer: Balancer;
  private readonly loop: Promise<void>;

  /** @internal Use `registry(keyspace).discover(service)`. */
  constructor(
    private readonly keyspace: Keyspace,
    /** The service discovered. */
    readonly service: string,
    private readonly layout: KeyLayout,
    options: DiscoverOptions = {},
  ) {
    super();
    checkOptions(options);
    this.prefix = layout.servicePrefix(service);
    this.matches = compileFilter(options.filter);
    const picker = options.picker ?? "round-robin";
    this.balancer = new Balancer(
      typeof picker === "string" ? createInstancePicker(picker, options.random) : picker,
      options.downPolicy,
      options.clock,
      options.zoneAffinity === undefined ? undefined : new ZonePreference(options.zoneAffinity),
    );
    this.protector =
      options.protect === undefined ? undefined : new Protector(options.protect, options.clock);
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.ready.catch(() => undefined);
    this.loop = this.run();
  }

  /** The instances shown now (filtered), in key order of their ids. */
  instances(): Instance[] {
    return [...this.sorted()];
  }

  /**
   * Picks an `up` instance for one call, skipping instances the down policy put aside; undefined
   * when there is none. Report the call's outcome with `picked.report({ ok, latencyMs })`.
   */
  pick(): Picked | undefined {
    this.upView ??= this.sorted().filter((i) => i.status === "up");
    return this.balancer.pick(this.upView);
  }

  /** The shown instances sorted by id, cached until the next change (pick() runs per call). */
  private sorted(): readonly Instance[] {
    this.view ??= [...this.known.values()]
      .map((k) => k.instance)
      .concat([...this.held.values()])
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return this.view;
  }

  private changed(): void {
    this.view = undefined;
    this.upView = undefined;
  }

  /** Stops watching. */
  async close(): Promise<void> {
    if (this.stop.signal.aborted) return;
    const error = new RegistryError("closed", `discovery of ${this.service} is closed`);
    this.stop.abort(error);
    clearTimeout(this.protectTimer);
    this.settleReady(error);
    await this.loop;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async run(): Promise<void> {
    const signal = this.stop.signal;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        for await (const item of listAndWatch(this.keyspace, this.prefix, { prefix: true, signal })) {
          if (item.type === "snapshot") {
            this.resync(item.kvs);
            this.settleReady();
            attempt = 0;
          } else if (item.type === "put") this.upsert(item.kv);
          else this.remove(this.nameOf(item.kv));
        }
      } catch (err) {
        if (signal.aborted) return;
        this.emit("error", err);
        // The client was closed under us: nothing more can be listed.
        if (KeywayError.is(err, "closed")) return;
        await pause(retryDelayMs(attempt), signal);
      }
    }
  }

  private nameOf(kv: KeyValue): string {
    return kv.keyText().slice(this.prefix.length);
  }

  /** Replaces the view with a full listing, emitting the difference. */
  private resync(kvs: readonly KeyValue[]): void {
    const listed = new Set<string>();
    for (const kv of kvs) {
      listed.add(this.nameOf(kv));
      if (this.known.get(this.nameOf(kv))?.modRevision !== kv.modRevision) this.upsert(kv);
    }
    for (const id of [...this.known.keys()]) if (!listed.has(id)) this.remove(id);
  }

  private upsert(kv: KeyValue): void {
    const id = this.nameOf(kv);
    let instance: Instance;
    try {
      instance = this.layout.decode(this.service, id, kv.value);
    } catch (err) {
      this.remove(id);
      this.emit("error", err);
      return;
    }
    if (!this.matches(instance)) {
      this.remove(id);
      return;
    }
    const previous = this.known.get(id)?.instance ?? this.held.get(id);
    this.held.delete(id);
    this.known.set(id, { instance, modRevision: kv.modRevision });
    this.changed();
    if (previous === undefined) this.emit("added", instance);
    else this.emit("updated", instance, previous);
    this.protect();
  }

  private remove(id: string): void {
    const previous = this.known.get(id);
    if (previous === undefined) return;
    this.known.delete(id);
    this.changed();
    if (this.protect()) {
      this.held.set(id, previous.instance);
      return;
    }
    this.dropped(previous.instance);
  }

  private dropped(instance: Instance): void {
    this.balancer.forget(instance.id);
    this.emit("removed", instance);
  }

  /**
   * Feeds the live count to the protect threshold (if any), reporting its start and end; at the
   * end the held instances are removed. Returns whether removals are held now.
   */
  private protect(): boolean {
    const protector = this.protector;
    if (protector === undefined) return false;
    const change = protector.update(this.known.size);
    clearTimeout(this.protectTimer);
    if (change !== undefined)
      this.emit("protection", {
        active: change === "on",
        live: this.known.size,
        peak: protector.protectedPeak,
      });
    if (change === "off") {
      const released = [...this.held.values()];
      this.held.clear();
      this.changed();
      for (const instance of released) this.dropped(instance);
    }
    // Ends it after maxHoldMs even if nothing changes meanwhile (re-armed if a timer fires early).
    if (protector.active)
      this.protectTimer = setTimeout(() => this.protect(), (protector.remainingMs ?? 0) + 10).unref();
    return protector.active;
  }
}
