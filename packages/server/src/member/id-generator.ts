const COUNTER_BITS = 8n;
const TIME_BITS = 40n;
const SUFFIX_BITS = TIME_BITS + COUNTER_BITS;
const SUFFIX_MASK = (1n << SUFFIX_BITS) - 1n;
const POSITIVE_MASK = (1n << 63n) - 1n;

/**
 * etcd's id generator (pkg/idutil), for proposal ids and for the lease ids of LeaseGrant with ID 0
 * (chosen before proposing): the member id's low 16 bits, then the start time in ms (40 bits) and a
 * counter (8 bits) that carries into the time. Ids stay unique across restarts as long as a
 * member draws fewer than 256 ids per millisecond it has been up on average; masked to 63
 * bits so they are positive. Apply never chooses ids, so it stays deterministic.
 */
export class IdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  /** @param nowMs wall-clock milliseconds at start (Date.now()). */
  constructor(memberId: bigint, nowMs: number) {
    this.prefix = BigInt.asUintN(16, memberId) << SUFFIX_BITS;
    this.suffix = (BigInt(Math.floor(nowMs)) & ((1n << TIME_BITS) - 1n)) << COUNTER_BITS;
  }

  /** The next id: positive, never 0. */
  next(): bigint {
    for (;;) {
      this.suffix = (this.suffix + 1n) & SUFFIX_MASK;
      const id = (this.prefix | this.suffix) & POSITIVE_MASK;
      if (id !== 0n) return id;
    }
  }
}
