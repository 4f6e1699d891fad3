/** A 64-bit FNV-1a style digest of the event stream, as two 32-bit lanes (pure, browser-safe). */
export class StreamDigest {
  private h1 = 0x811c9dc5;
  private h2 = 0xcbf29ce4;

  /** Mixes one 32-bit word into the digest. */
  word(w: number): void {
    let h1 = this.h1 ^ (w & 0xffff);
    h1 = Math.imul(h1, 0x01000193);
    h1 ^= w >>> 16;
    this.h1 = Math.imul(h1, 0x01000193);
    let h2 = this.h2 ^ (w & 0xff);
    h2 = Math.imul(h2, 0x01000193) ^ ((w >>> 8) & 0xffffff);
    this.h2 = Math.imul(h2 ^ this.h1, 0x5bd1e995);
  }

  /**
   * Mixes one event with five multiplications: words (time low), (kind << 20 ^ cpu ^ time high << 8)
   * and (arg high) into lane 1, then lane 1 and (arg low) into lane 2. Every step is a bijection of
   * the 64-bit state, so two streams differing in one event's time, kind (below 4096), cpu or
   * integer arg never digest alike. (The arg-high step was added with the radix event queue; it
   * changed every digest value.)
   */
  event(time: number, kind: number, cpu: number, arg: number): void {
    const hi = (time / 4294967296) | 0;
    let h1 = Math.imul(this.h1 ^ (time >>> 0), 0x01000193);
    h1 = Math.imul(h1 ^ ((kind << 20) ^ cpu ^ (hi << 8)), 0x01000193);
    h1 = Math.imul(h1 ^ Math.floor(arg / 4294967296), 0x01000193);
    let h2 = Math.imul(this.h2 ^ h1, 0x5bd1e995);
    h2 = Math.imul(h2 ^ (arg | 0) ^ (h2 >>> 15), 0x27d4eb2d);
    this.h1 = h1;
    this.h2 = h2;
  }

  /** Mixes a non-negative integer up to 2^53 (two words). */
  number(x: number): void {
    this.word(x >>> 0);
    this.word(Math.floor(x / 4294967296) >>> 0);
  }

  /** Mixes a string. */
  string(s: string): void {
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }

  /** The digest so far as 16 hex digits. */
  hex(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, "0") + (this.h2 >>> 0).toString(16).padStart(8, "0");
  }
}
