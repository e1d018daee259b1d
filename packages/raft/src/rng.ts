/**
 * Injected randomness. The core draws only election-timeout jitter from it; simulators inject a
 * seeded generator so every run replays exactly.
 */
export interface Rng {
  /** A uniformly distributed integer in [0, maxExclusive). `maxExclusive` is a positive safe integer. */
  int(maxExclusive: number): number;
}

/**
 * A small, fast, seeded generator (sfc32, 128-bit state). Not cryptographic; the same seed yields
 * the same sequence on every platform.
 */
export class SeededRng implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed any 32-bit integer; different seeds give unrelated sequences. */
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    // Mix the seed through the state before first use.
    for (let i = 0; i < 15; i++) this.next32();
  }

  /** The next raw 32-bit unsigned value. */
  next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  int(maxExclusive: number): number {
    return Math.floor((this.next32() / 0x1_0000_0000) * maxExclusive);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next32() / 0x1_0000_0000;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }
}
