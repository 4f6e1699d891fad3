/**
 * CPU masks and the kernel's CPU list syntax (include/linux/cpumask.h, lib/bitmap.c, 6.1).
 * A mask is a fixed-size bitset of `nrCpuIds` bits in 32-bit words; bits at or above
 * `nrCpuIds` are never set.
 */

/** The errno a CPU list is rejected with, as bitmap_parselist() in lib/bitmap.c returns it. */
export type CpuListErrno = "EINVAL" | "ERANGE" | "EOVERFLOW";

/** A CPU list the kernel's bitmap_parselist() (lib/bitmap.c) would reject; names the field, the value and what is valid. */
export class CpuListError extends Error {
  /** Name of the input the list came from (`nohz_full`, `cpus`, ...). */
  readonly field: string;
  /** The list as given. */
  readonly value: string;
  /** The kernel's error code for this input. */
  readonly errno: CpuListErrno;

  constructor(field: string, value: string, errno: CpuListErrno, message: string) {
    super(`${field}: ${message}`);
    this.name = "CpuListError";
    this.field = field;
    this.value = value;
    this.errno = errno;
  }
}

/** One region of a list, as lib/bitmap.c's struct region: bits `start..end`, `off` of every `groupLen`. */
interface Region {
  start: number;
  end: number;
  off: number;
  groupLen: number;
}

const UINT_MAX = 0xffffffff;
const SYNTAX = 'CPUs and ranges separated by commas, e.g. "0-3,5", "1-N:1/2" = every other CPU from 1, "N" = the last CPU, "all"';

const isSpace = (c: string): boolean =>
  c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
const isDigit = (c: string): boolean => c >= "0" && c <= "9";
/** lib/bitmap.c end_of_str(); `charAt` past the end gives "", the C string's NUL. */
const endOfStr = (c: string): boolean => c === "" || c === "\0" || c === "\n";
/** lib/bitmap.c __end_of_region(). */
const regionSep = (c: string): boolean => isSpace(c) || c === ",";
/** lib/bitmap.c end_of_region(). */
const endOfRegion = (c: string): boolean => regionSep(c) || endOfStr(c);

const validCpus = (nr: number): string => (nr === 1 ? "0" : `0-${nr - 1}`);

/** Parser state of one bitmap_parselist() call: the string, its field name and the mask width. */
class ListParser {
  constructor(
    readonly s: string,
    readonly field: string,
    readonly nbits: number,
  ) {}

  /** Set by region() when the region ended the string (bitmap_parse_region() returned NULL). */
  done = false;

  fail(errno: CpuListErrno, message: string): never {
    throw new CpuListError(this.field, this.s, errno, message);
  }

  /** Throws -EINVAL for an unexpected character (or end) at `i`. */
  unexpected(i: number, wanted: string): never {
    const c = this.s.charAt(i);
    const what = endOfStr(c) ? "end of list" : `"${c}"`;
    return this.fail(
      "EINVAL",
      `unexpected ${what} at position ${i} of "${this.s}", expected ${wanted} (valid: ${SYNTAX})`,
    );
  }

  /** Models bitmap_getnum(): `N` (the last bit) or a decimal number fitting an unsigned int. */
  getnum(i: number): [value: number, next: number] {
    if (this.s.charAt(i) === "N") return [this.nbits - 1, i + 1];
    let j = i;
    let n = 0;
    while (isDigit(this.s.charAt(j))) n = Math.min(n * 10 + (this.s.charCodeAt(j++) - 48), 2 ** 53);
    if (j === i) return this.unexpected(i, "a CPU number or N");
    if (n > UINT_MAX) {
      return this.fail(
        "EOVERFLOW",
        `number ${this.s.slice(i, j)} in "${this.s}" is too large (valid CPUs: ${validCpus(this.nbits)})`,
      );
    }
    return [n, j];
  }

  /** Models bitmap_parse_region(): fills `r` and returns the index just after the region. */
  region(i: number, r: Region): number {
    if (this.s.slice(i, i + 3).toLowerCase() === "all") {
      r.start = 0;
      r.end = this.nbits - 1;
      i += 3;
    } else {
      [r.start, i] = this.getnum(i);
      if (endOfRegion(this.s.charAt(i))) {
        r.end = r.start;
        return this.noPattern(i, r);
      }
      if (this.s.charAt(i) !== "-") return this.unexpected(i, '"-", "," or the end');
      [r.end, i] = this.getnum(i + 1);
    }
    if (endOfRegion(this.s.charAt(i))) return this.noPattern(i, r);
    if (this.s.charAt(i) !== ":") return this.unexpected(i, '":", "," or the end');
    [r.off, i] = this.getnum(i + 1);
    if (this.s.charAt(i) !== "/") return this.unexpected(i, '"/"');
    [r.groupLen, i] = this.getnum(i + 1);
    return i;
  }

  noPattern(i: number, r: Region): number {
    r.off = r.end + 1;
    r.groupLen = r.end + 1;
    this.done = endOfStr(this.s.charAt(i));
    return i;
  }

  /** Models bitmap_check_region(). */
  check(r: Region, text: string): void {
    if (r.start > r.end) {
      this.fail("EINVAL", `range "${text}" in "${this.s}" starts at ${r.start}, after its end ${r.end} (valid: start <= end)`);
    }
    if (r.groupLen === 0 || r.off > r.groupLen) {
      this.fail(
        "EINVAL",
        `range "${text}" in "${this.s}" uses ${r.off} of every ${r.groupLen} CPUs (valid: used <= group size, group size >= 1)`,
      );
    }
    if (r.end >= this.nbits) {
      this.fail(
        "ERANGE",
        `CPU ${r.end} is out of range for a machine of ${this.nbits} CPUs (valid: ${validCpus(this.nbits)})`,
      );
    }
  }
}

/** A set of CPUs: the kernel's struct cpumask (include/linux/cpumask.h), as a bitset of nr_cpu_ids bits. */
export class CpuMask {
  /** Number of CPU ids the mask spans (the kernel's nr_cpu_ids); CPUs are 0..nrCpuIds-1. */
  readonly nrCpuIds: number;
  private readonly words: Uint32Array;

  /** Models zalloc_cpumask_var(): an empty mask of `nrCpuIds` CPUs. */
  constructor(nrCpuIds: number) {
    if (!Number.isInteger(nrCpuIds) || nrCpuIds < 1) {
      throw new RangeError(`nrCpuIds: ${nrCpuIds} is not a CPU count (valid: an integer >= 1)`);
    }
    this.nrCpuIds = nrCpuIds;
    this.words = new Uint32Array((nrCpuIds + 31) >>> 5);
  }

  /**
   * Models cpulist_parse() → lib/bitmap.c bitmap_parselist() (6.1): regions `a`, `a-b`, `a-b:used/group`,
   * `N` for the last CPU anywhere a number goes, case-insensitive `all` for 0-N, separated by commas
   * and/or whitespace; a newline ends the list; "" is the empty mask. Throws {@link CpuListError}.
   */
  static parse(list: string, nrCpuIds: number, field = "cpus"): CpuMask {
    const mask = new CpuMask(nrCpuIds);
    const p = new ListParser(list, field, nrCpuIds);
    const r: Region = { start: 0, end: 0, off: 0, groupLen: 0 };
    let i = 0;
    while (!p.done) {
      while (regionSep(list.charAt(i))) i++; // bitmap_find_region()
      if (endOfStr(list.charAt(i))) break;
      const begin = i;
      i = p.region(i, r);
      p.check(r, list.slice(begin, i));
      for (let s = r.start; s <= r.end; s += r.groupLen) {
        mask.setRange(s, Math.min(r.end - s + 1, r.off)); // bitmap_set_region()
      }
    }
    return mask;
  }

  /** Models cpu_possible_mask with every CPU set (cpumask_setall()). */
  static full(nrCpuIds: number): CpuMask {
    return new CpuMask(nrCpuIds).setRange(0, nrCpuIds);
  }

  /** Models cpumask_set_cpu() for each listed CPU on an empty mask. */
  static of(nrCpuIds: number, cpus: readonly number[]): CpuMask {
    const mask = new CpuMask(nrCpuIds);
    for (const cpu of cpus) mask.set(cpu);
    return mask;
  }

  private check(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.nrCpuIds) {
      throw new RangeError(
        `CPU ${cpu} is out of range for a machine of ${this.nrCpuIds} CPUs (valid: ${validCpus(this.nrCpuIds)})`,
      );
    }
  }

  private same(other: CpuMask): void {
    if (other.nrCpuIds !== this.nrCpuIds) {
      throw new RangeError(`cpumask: masks of ${this.nrCpuIds} and ${other.nrCpuIds} CPUs cannot be combined`);
    }
  }

  /** Sets `len` bits from `start` (lib/bitmap.c bitmap_set()). */
  private setRange(start: number, len: number): this {
    let bit = start;
    const end = start + len;
    while (bit < end) {
      const w = bit >>> 5;
      const lo = bit & 31;
      const n = Math.min(32 - lo, end - bit);
      this.words[w]! |= (n === 32 ? UINT_MAX : ((1 << n) - 1) << lo) >>> 0;
      bit += n;
    }
    return this;
  }

  /** Models cpumask_test_cpu(). */
  has(cpu: number): boolean {
    this.check(cpu);
    return ((this.words[cpu >>> 5]! >>> (cpu & 31)) & 1) === 1;
  }

  /** Models cpumask_set_cpu(); returns the mask. */
  set(cpu: number): this {
    this.check(cpu);
    this.words[cpu >>> 5]! |= 1 << (cpu & 31);
    return this;
  }

  /** Models cpumask_clear_cpu(); returns the mask. */
  clear(cpu: number): this {
    this.check(cpu);
    this.words[cpu >>> 5]! &= ~(1 << (cpu & 31));
    return this;
  }

  /** Models cpumask_weight(): the number of CPUs in the mask. */
  weight(): number {
    let n = 0;
    for (let w of this.words) {
      w -= (w >>> 1) & 0x55555555;
      w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
      n += Math.imul((w + (w >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
    }
    return n;
  }

  /** Models cpumask_empty(). */
  isEmpty(): boolean {
    return this.words.every((w) => w === 0);
  }

  /** Models cpumask_first(); -1 (not nr_cpu_ids) when empty. */
  first(): number {
    return this.next(-1);
  }

  /** Models cpumask_next(): the first CPU above `cpu` (which may be -1), or -1 when none. */
  next(cpu: number): number {
    let bit = cpu + 1;
    if (bit < 0) bit = 0;
    let w = bit >>> 5;
    if (w >= this.words.length) return -1;
    let word = (this.words[w]! >>> (bit & 31)) << (bit & 31);
    for (;;) {
      if (word !== 0) return (w << 5) + 31 - Math.clz32(word & -word);
      if (++w >= this.words.length) return -1;
      word = this.words[w]!;
    }
  }

  /** The CPUs of the mask in increasing order (for_each_cpu()). */
  toArray(): number[] {
    const out: number[] = [];
    for (let cpu = this.first(); cpu >= 0; cpu = this.next(cpu)) out.push(cpu);
    return out;
  }

  /** Models for_each_cpu(): calls `fn` for each CPU in increasing order. */
  forEach(fn: (cpu: number) => void): void {
    for (let cpu = this.first(); cpu >= 0; cpu = this.next(cpu)) fn(cpu);
  }

  /** Models cpumask_equal(); masks of different sizes are never equal. */
  equals(other: CpuMask): boolean {
    if (other.nrCpuIds !== this.nrCpuIds) return false;
    return this.words.every((w, i) => w === other.words[i]);
  }

  /** Models cpumask_copy() into a new mask. */
  clone(): CpuMask {
    const mask = new CpuMask(this.nrCpuIds);
    mask.words.set(this.words);
    return mask;
  }

  private combine(other: CpuMask, op: (a: number, b: number) => number): CpuMask {
    this.same(other);
    const mask = new CpuMask(this.nrCpuIds);
    for (let i = 0; i < this.words.length; i++) mask.words[i] = op(this.words[i]!, other.words[i]!);
    return mask;
  }

  /** Models cpumask_and() into a new mask. */
  and(other: CpuMask): CpuMask {
    return this.combine(other, (a, b) => a & b);
  }

  /** Models cpumask_or() into a new mask. */
  or(other: CpuMask): CpuMask {
    return this.combine(other, (a, b) => a | b);
  }

  /** Models cpumask_andnot() into a new mask: the CPUs of this mask not in `other`. */
  andNot(other: CpuMask): CpuMask {
    return this.combine(other, (a, b) => a & ~b);
  }

  /** Models cpumask_intersects(). */
  intersects(other: CpuMask): boolean {
    this.same(other);
    return this.words.some((w, i) => (w & other.words[i]!) !== 0);
  }

  /** Models cpumask_subset(): every CPU of this mask is in `other`. */
  isSubsetOf(other: CpuMask): boolean {
    this.same(other);
    return this.words.every((w, i) => (w & ~other.words[i]!) === 0);
  }

  /** Models the `%*pbl` format (lib/vsprintf.c bitmap_list_string()): `0-3,5,7-9`, "" when empty. */
  toString(): string {
    const parts: string[] = [];
    let cpu = this.first();
    while (cpu >= 0) {
      let last = cpu;
      let next = this.next(cpu);
      while (next === last + 1) {
        last = next;
        next = this.next(next);
      }
      parts.push(last === cpu ? `${cpu}` : `${cpu}-${last}`);
      cpu = next;
    }
    return parts.join(",");
  }
}
