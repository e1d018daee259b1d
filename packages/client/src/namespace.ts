import type { CallOptions } from "./call-options.js";
import type { KeepAliveStream } from "./keep-alive-stream.js";
import { type KeyMapper, prefixMapper } from "./key-mapper.js";
import type { KeyValue } from "./key-value.js";
import { type Bytes, toKey } from "./keys.js";
import { KVClient } from "./kv.js";
import { LeaseClient } from "./lease.js";
import type { DeleteOptions, GetOptions, PutOptions, RangeOptions } from "./requests.js";
import type { DeleteResult, PutResult, RangeResult } from "./results.js";
import { Session, type SessionOptions } from "./session.js";
import type { Transport } from "./transport.js";
import type { Txn } from "./txn.js";
import type { WatchManager } from "./watch-manager.js";
import type { WatchOptions } from "./watch-options.js";
import type { Watcher } from "./watcher.js";

/** The shared machinery every keyspace view uses. */
export interface Core {
  readonly transport: Transport;
  readonly watches: WatchManager;
  readonly keepAlives: KeepAliveStream;
}

/**
 * A view of the keyspace: KV, txn, watch, lease and sessions, with every key mapped through a
 * {@link KeyMapper}. The client is the root view; `namespace(prefix)` makes a view whose keys
 * are stored under the prefix and returned without it.
 */
export class Keyspace {
  /** Key-value calls of this view. */
  readonly kv: KVClient;
  /** Lease calls of this view (attached keys are reported without the prefix). */
  readonly lease: LeaseClient;

  constructor(
    protected readonly core: Core,
    private readonly mapper: KeyMapper,
    private readonly prefix: Buffer,
  ) {
    this.kv = new KVClient(core.transport, mapper);
    this.lease = new LeaseClient(core.transport, mapper, core.keepAlives);
  }

  /** The value at `key`, or undefined. */
  get(key: Bytes, options?: GetOptions & CallOptions): Promise<KeyValue | undefined> {
    return this.kv.get(key, options);
  }

  /** A range read with every etcd option. */
  range(key: Bytes, options?: RangeOptions & CallOptions): Promise<RangeResult> {
    return this.kv.range(key, options);
  }

  /** Writes a key (never retried once it may have reached a server). */
  put(key: Bytes, value: Bytes, options?: PutOptions & CallOptions): Promise<PutResult> {
    return this.kv.put(key, value, options);
  }

  /** Deletes a key or range. */
  delete(key: Bytes, options?: DeleteOptions & CallOptions): Promise<DeleteResult> {
    return this.kv.delete(key, options);
  }

  /** A txn builder: `txn().if(...).then(...).else(...).commit()`. */
  txn(): Txn {
    return this.kv.txn();
  }

  /** Watches a key or range; resolves once the watch is created. */
  watch(key: Bytes, options: WatchOptions = {}): Promise<Watcher> {
    return this.core.watches.watch(key, options, this.mapper);
  }

  /** A lease kept alive until the session is closed (which revokes it). */
  session(options?: SessionOptions): Promise<Session> {
    return Session.create(this.lease, options);
  }

  /** A view whose keys live under `prefix` (nested inside this view's prefix). */
  namespace(prefix: Bytes): Keyspace {
    const full = Buffer.concat([this.prefix, toKey(prefix, "namespace prefix")]);
    return new Keyspace(this.core, prefixMapper(full), full);
  }
}
