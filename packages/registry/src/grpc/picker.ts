import { experimental, Metadata, status } from "@grpc/grpc-js";
import type { Balancer, Picked } from "../balancer.js";
import type { Instance } from "../instance.js";

/**
 * Status codes that count as a failure of the instance (for the down-instance policy), as
 * go-zero's p2c balancer counts them; any other code, OK or an application error such as
 * NOT_FOUND, shows the instance answered.
 */
const INSTANCE_FAILURES: ReadonlySet<number> = new Set([
  status.DEADLINE_EXCEEDED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
  status.UNIMPLEMENTED,
  status.RESOURCE_EXHAUSTED,
]);

/** How long a pick may wait for its call to start before it is given back. */
const START_GRACE_MS = 10_000;
/** Most picks waiting to start that are tracked; older ones are given back first. */
const MAX_UNSTARTED = 10_000;

/**
 * Picks grpc-js gave a subchannel but whose call has not started yet. grpc-js drops a pick
 * without telling the picker when the subchannel stops being ready or the call ends while call
 * credentials are generated; such picks are given back after {@link START_GRACE_MS}, so their
 * in-flight count does not stay up forever (it gates the down policy's probes).
 */
export class UnstartedPicks {
  private readonly waiting = new Map<number, { picked: Picked; at: number }>();
  private next = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  /** Tracks a pick until {@link UnstartedPicks.started}; returns its token. */
  add(picked: Picked): number {
    if (this.waiting.size >= MAX_UNSTARTED) this.giveBackOldest();
    const token = this.next++;
    this.waiting.set(token, { picked, at: this.clock() });
    return token;
  }

  /** Gives back the picks that waited longer than the grace time (run before each pick). */
  sweep(): void {
    const now = this.clock();
    for (const entry of this.waiting.values()) {
      if (now - entry.at < START_GRACE_MS) return;
      this.giveBackOldest();
    }
  }

  private giveBackOldest(): void {
    for (const [token, entry] of this.waiting) {
      entry.picked.release();
      this.waiting.delete(token);
      return;
    }
  }

  /** The pick's call started: it will be reported when the call ends. */
  started(token: number): void {
    this.waiting.delete(token);
  }
}

/** A ready endpoint as the picker sees it: its instance and its pick_first child's picker. */
export interface ReadyChild {
  readonly instance: Instance;
  readonly picker: experimental.Picker;
}

/**
 * The picker the `keyway` policy hands to grpc-js while some endpoint is ready: our
 * {@link Balancer} chooses among the ready instances (picker policy plus down policy), and each
 * call's status and latency are reported back to it when the call ends.
 */
export class BalancedPicker implements experimental.Picker {
  private readonly instances: Instance[];
  private readonly children = new Map<string, experimental.Picker>();

  constructor(
    ready: readonly ReadyChild[],
    private readonly balancer: Balancer,
    private readonly unstarted: UnstartedPicks,
    /** Called when every ready instance is down; the policy publishes a new picker later. */
    private readonly allDown: () => string,
  ) {
    this.instances = ready.map((child) => child.instance);
    for (const child of ready) this.children.set(child.instance.id, child.picker);
  }

  pick(args: experimental.PickArgs): experimental.PickResult {
    this.unstarted.sweep();
    const picked = this.balancer.pick(this.instances);
    const child = picked === undefined ? undefined : this.children.get(picked.instance.id);
    if (picked === undefined || child === undefined) {
      picked?.release();
      return {
        pickResultType: experimental.PickResultType.TRANSIENT_FAILURE,
        subchannel: null,
        status: { code: status.UNAVAILABLE, details: this.allDown(), metadata: new Metadata() },
        onCallStarted: null,
        onCallEnded: null,
      };
    }
    const result = child.pick(args);
    if (result.pickResultType !== experimental.PickResultType.COMPLETE) {
      picked.release();
      return result;
    }
    const token = this.unstarted.add(picked);
    return {
      ...result,
      onCallStarted: () => {
        this.unstarted.started(token);
        result.onCallStarted?.();
      },
      onCallEnded: (code, details, metadata) => {
        picked.report({ ok: !INSTANCE_FAILURES.has(code) });
        result.onCallEnded?.(code, details, metadata);
      },
    };
  }
}
