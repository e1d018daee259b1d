/**
 * A small seeded PRNG (mulberry32): the same seed gives the same choice sequence, so a run's
 * traffic replays from its printed seed. Not cryptographic; 2^32 period is plenty for a run.
 */
export class Prng {
  private state: number;

  /** `seed` is any integer; only its low 32 bits matter. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform integer in [0, bound). */
  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("Prng.pick: empty array");
    return item;
  }

  /** A new generator seeded from this one: independent streams per client stay reproducible. */
  fork(): Prng {
    return new Prng(Math.floor(this.next() * 4294967296));
  }
}
