import { Prng } from "@isolsim/core";

/** Draws of the generator on top of the core's seeded `Prng`: the only randomness torture has. */
export class Draw {
  private readonly prng: Prng;

  constructor(seed: number) {
    this.prng = new Prng(seed);
  }

  /** A uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return hi <= lo ? lo : lo + this.prng.intInclusive(hi - lo);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.prng.nextU32() < p * 2 ** 32;
  }

  /** One element of a non-empty list. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }

  /** One element of `xs`, drawn with the weights `w` (same length). */
  weighted<T>(xs: readonly T[], w: readonly number[]): T {
    const total = w.reduce((a, b) => a + b, 0);
    let r = this.int(0, total - 1);
    for (let i = 0; i < xs.length; i++) {
      r -= w[i]!;
      if (r < 0) return xs[i]!;
    }
    return xs[xs.length - 1]!;
  }

  /** An integer log-uniform in [lo, hi] (lo >= 1): small values as likely per decade as large ones. */
  logInt(lo: number, hi: number): number {
    const a = Math.log(lo);
    const b = Math.log(hi);
    const u = this.prng.nextU32() / 2 ** 32;
    return Math.min(hi, Math.max(lo, Math.round(Math.exp(a + (b - a) * u))));
  }

  /** A seed for a sub-generator. */
  seed(): number {
    return this.prng.nextU32();
  }
}

/** The seed of run `index` of a torture with seed `seed` (splitmix32 of both): each run can be generated alone. */
export function runSeed(seed: number, index: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b9) + Math.imul(index + 1, 0x85ebca6b)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
