import type { etcdserverpb } from "@keyway/api";
import { SeededRng } from "@keyway/raft";

/** The bugs a planted proxy can inject; `none` forwards faithfully. */
export type PlantedBug = "none" | "staleRead" | "lostWrite" | "droppedWatchEvent";

/** A stale answer is only served when a newer write was acknowledged at least this long ago. */
const SETTLE_MS = 50;
/** Most acknowledged writes remembered while they settle. */
const MAX_PENDING_ACKS = 10_000;

/**
 * Decides, with a seeded generator, when the planted bug strikes, and keeps what it needs: the
 * first answer of each range request (the stale copy) and the revisions of acknowledged writes.
 * A stale answer is served only when a write newer than it was acknowledged SETTLE_MS before, so
 * the staleness is real (a client saw the newer write before the read began), not a read that
 * merely raced a write.
 */
export class BugInjector {
  private readonly rng: SeededRng;
  private readonly staleRanges = new Map<string, etcdserverpb.RangeResponse>();
  private readonly pendingAcks: { revision: bigint; atMs: number }[] = [];
  private settledRevision = 0n;
  /** How many times the bug struck. */
  injected = 0;

  constructor(
    readonly bug: PlantedBug,
    seed: number,
    private readonly rate: number,
  ) {
    this.rng = new SeededRng(seed);
  }

  private strikes(bug: PlantedBug): boolean {
    return this.bug === bug && this.rng.chance(this.rate);
  }

  /** Notes a write's answer (its revision is now acknowledged). */
  acknowledged(revision: bigint): void {
    if (this.pendingAcks.length < MAX_PENDING_ACKS) this.pendingAcks.push({ revision, atMs: Date.now() });
  }

  private settle(): bigint {
    const cutoff = Date.now() - SETTLE_MS;
    while (this.pendingAcks[0] !== undefined && this.pendingAcks[0].atMs <= cutoff) {
      const ack = this.pendingAcks.shift();
      if (ack !== undefined && ack.revision > this.settledRevision) this.settledRevision = ack.revision;
    }
    return this.settledRevision;
  }

  /** A stale answer to serve instead of forwarding `request`, when the bug strikes. */
  staleRange(request: etcdserverpb.RangeRequest): etcdserverpb.RangeResponse | undefined {
    if (this.bug !== "staleRead") return undefined;
    const cached = this.staleRanges.get(rangeKey(request));
    const revision = cached?.header?.revision ?? 0n;
    if (cached === undefined || revision >= this.settle() || !this.strikes("staleRead")) return undefined;
    this.injected++;
    return cached;
  }

  /** Remembers the first answer to each range request, to serve it stale later. */
  rangeAnswered(request: etcdserverpb.RangeRequest, response: etcdserverpb.RangeResponse): void {
    if (this.bug !== "staleRead") return;
    const key = rangeKey(request);
    if (!this.staleRanges.has(key)) this.staleRanges.set(key, response);
  }

  /** True when this put should be acknowledged without being forwarded. */
  losesPut(): boolean {
    const lose = this.strikes("lostWrite");
    if (lose) this.injected++;
    return lose;
  }

  /** A watch response with its first event dropped when the bug strikes (no response if it had one). */
  filterWatch(response: etcdserverpb.WatchResponse): etcdserverpb.WatchResponse | undefined {
    if (response.events.length === 0 || !this.strikes("droppedWatchEvent")) return response;
    this.injected++;
    if (response.events.length === 1) return undefined;
    return { ...response, events: response.events.slice(1) };
  }
}

function rangeKey(request: etcdserverpb.RangeRequest): string {
  return `${request.key.toString("hex")}/${request.rangeEnd.toString("hex")}/${request.limit}`;
}
