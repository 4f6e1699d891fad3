/** High half of the FNV-1a 64 offset basis 0xcbf29ce484222325. */
const FNV64_BASIS_HI = 0xcbf29ce4 | 0;
/** Low half of the FNV-1a 64 offset basis. */
const FNV64_BASIS_LO = 0x84222325 | 0;
/** The FNV 64 prime 0x100000001b3 is 2^40 + FNV64_PRIME_LO. */
const FNV64_PRIME_LO = 0x1b3;
/** 2^-32 (exact: the high word of a time or argument is x × 2^-32, floored). */
const TWO_NEG32 = 1 / 4294967296;

/** High 32 bits of (the low half `lo`, unsigned) × 0x1b3, from 16-bit parts so every product fits an int32. */
function carry(lo: number): number {
  return ((lo >>> 16) * FNV64_PRIME_LO + (((lo & 0xffff) * FNV64_PRIME_LO) >>> 16)) >>> 16;
}

/**
 * FNV-1a 64 of the event stream (offset basis 0xcbf29ce484222325, prime 0x100000001b3), taken over
 * 32-bit words rather than octets — a quarter of the multiplications on the engine's hot path — in
 * two 32-bit halves, so it needs no BigInt and runs in a browser as it is. Each event feeds six
 * words: time (low, high), kind, cpu, arg (low, high). Every step h ← (h ^ w) × prime mod 2^64 is a
 * bijection of the 64-bit state for a given word and of the word for a given state, so two streams
 * that differ in any one field of one event never digest alike (the previous two-lane mix folded
 * cpu and the time's high bits into one word and let CPU 256 at time t equal CPU 0 at t + 2^32).
 */
export class StreamDigest {
  private hi = FNV64_BASIS_HI;
  private lo = FNV64_BASIS_LO;

  /** Mixes one event: every field in full (times and arguments up to 2^53, negative arguments too). */
  event(time: number, kind: number, cpu: number, arg: number): void {
    let hi = this.hi, lo = this.lo;
    // Six FNV-1a steps h = (h ^ w) × (2^40 + 0x1b3) mod 2^64, unrolled on two int32 halves: h × 2^40
    // puts the low half, shifted by 8, into the high half; the carry of lo × 0x1b3 comes from 16-bit parts.
    lo ^= time;
    hi = (Math.imul(hi, FNV64_PRIME_LO) + (lo << 8) + carry(lo)) | 0;
    lo = Math.imul(lo, FNV64_PRIME_LO);
    lo ^= (time * TWO_NEG32) | 0;
    hi = (Math.imul(hi, FNV64_PRIME_LO) + (lo << 8) + carry(lo)) | 0;
    lo = Math.imul(lo, FNV64_PRIME_LO);
    lo ^= kind;
    hi = (Math.imul(hi, FNV64_PRIME_LO) + (lo << 8) + carry(lo)) | 0;
    lo = Math.imul(lo, FNV64_PRIME_LO);
    lo ^= cpu;
    hi = (Math.imul(hi, FNV64_PRIME_LO) + (lo << 8) + carry(lo)) | 0;
    lo = Math.imul(lo, FNV64_PRIME_LO);
    lo ^= arg;
    hi = (Math.imul(hi, FNV64_PRIME_LO) + (lo << 8) + carry(lo)) | 0;
    lo = Math.imul(lo, FNV64_PRIME_LO);
    lo ^= Math.floor(arg * TWO_NEG32);
    hi = (Math.imul(hi, FNV64_PRIME_LO) + (lo << 8) + carry(lo)) | 0;
    lo = Math.imul(lo, FNV64_PRIME_LO);
    this.hi = hi;
    this.lo = lo;
  }

  /** The digest so far as 16 hex digits (the 64-bit FNV-1a value, high half first). */
  hex(): string {
    return (this.hi >>> 0).toString(16).padStart(8, "0") + (this.lo >>> 0).toString(16).padStart(8, "0");
  }
}
