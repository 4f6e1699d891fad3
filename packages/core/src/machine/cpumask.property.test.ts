import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CpuListError, CpuMask } from "./cpumask.js";

/**
 * A reference bitmap_parselist(), transcribed line by line from Linux 6.1 lib/bitmap.c (with
 * bitmap_getnum() over lib/kstrtox.c _parse_integer()): the C string is `s` up to its first NUL.
 * Returns the set bits, or the errno the kernel returns.
 */
function refParselist(buf: string, nbits: number): { bits: number[] } | { errno: "EINVAL" | "ERANGE" | "EOVERFLOW" } {
  const s = buf.includes("\0") ? buf.slice(0, buf.indexOf("\0")) : buf;
  const at = (i: number): string => (i < s.length ? s[i]! : "\0");
  const isspace = (c: string): boolean => c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
  const endOfStr = (c: string): boolean => c === "\0" || c === "\n";
  const endOfRegionSep = (c: string): boolean => isspace(c) || c === ",";
  const endOfRegion = (c: string): boolean => endOfRegionSep(c) || endOfStr(c);
  class Err {
    constructor(readonly errno: "EINVAL" | "ERANGE" | "EOVERFLOW") {}
  }
  const lastbit = nbits - 1;
  const getnum = (i: number): [number, number] => {
    if (at(i) === "N") return [lastbit, i + 1];
    let n = 0n;
    let len = 0;
    let overflow = false;
    while (at(i + len) >= "0" && at(i + len) <= "9") {
      n = n * 10n + BigInt(at(i + len).charCodeAt(0) - 48);
      if (n > 0xffffffffffffffffn) overflow = true;
      len++;
    }
    if (!len) throw new Err("EINVAL");
    if (overflow || n > 0xffffffffn) throw new Err("EOVERFLOW");
    return [Number(n), i + len];
  };
  const bits = new Set<number>();
  let i: number | null = 0;
  try {
    while (i !== null) {
      // bitmap_find_region()
      while (endOfRegionSep(at(i))) i++;
      if (endOfStr(at(i))) break;
      // bitmap_parse_region()
      let start = 0, end = 0, off = 0, groupLen = 0;
      let next: number | null;
      let pattern = true;
      if (s.slice(i, i + 3).toLowerCase() === "all") {
        start = 0;
        end = lastbit;
        next = i + 3;
      } else {
        [start, next] = getnum(i);
        if (endOfRegion(at(next))) {
          end = start;
          pattern = false;
        } else {
          if (at(next) !== "-") throw new Err("EINVAL");
          [end, next] = getnum(next + 1);
        }
      }
      if (pattern && endOfRegion(at(next))) pattern = false;
      if (pattern) {
        if (at(next) !== ":") throw new Err("EINVAL");
        [off, next] = getnum(next + 1);
        if (at(next) !== "/") throw new Err("EINVAL");
        [groupLen, next] = getnum(next + 1);
      } else {
        off = end + 1;
        groupLen = end + 1;
        if (endOfStr(at(next))) next = null;
      }
      // bitmap_check_region()
      if (start > end || groupLen === 0 || off > groupLen) throw new Err("EINVAL");
      if (end >= nbits) throw new Err("ERANGE");
      // bitmap_set_region()
      for (let b = start; b <= end; b += groupLen) for (let k = 0; k < Math.min(end - b + 1, off); k++) bits.add(b + k);
      i = next;
    }
  } catch (e) {
    if (e instanceof Err) return { errno: e.errno };
    throw e;
  }
  return { bits: [...bits].sort((a, b) => a - b) };
}

/** The model's answer in the reference's shape. */
function modelParselist(s: string, nbits: number): { bits: number[] } | { errno: string } {
  try {
    return { bits: CpuMask.parse(s, nbits).toArray() };
  } catch (e) {
    if (e instanceof CpuListError) return { errno: e.errno };
    throw e;
  }
}

const nbitsArb = fc.integer({ min: 1, max: 300 });
/** A number as the grammar may hold one: small, near the machine's size, `N`, huge, or with leading zeros. */
const numArb = fc.oneof(
  fc.integer({ min: 0, max: 40 }).map(String),
  fc.integer({ min: 0, max: 400 }).map(String),
  fc.constant("N"),
  fc.constantFrom("4294967295", "4294967296", "18446744073709551616", "007"),
);
/** A region of the grammar (`a`, `a-b`, `a-b:u/g`, `all`, `all:u/g`), sometimes with a defect. */
const regionArb = fc.oneof(
  numArb,
  fc.tuple(numArb, numArb).map(([a, b]) => `${a}-${b}`),
  fc.tuple(numArb, numArb, numArb, numArb).map(([a, b, u, g]) => `${a}-${b}:${u}/${g}`),
  fc.constantFrom("all", "ALL", "aLl"),
  fc.tuple(numArb, numArb).map(([u, g]) => `all:${u}/${g}`),
);
const sepArb = fc.constantFrom(",", " ", ",,", ", ", "\t", "\n");
const listArb = fc
  .tuple(fc.array(fc.tuple(regionArb, sepArb), { minLength: 0, maxLength: 5 }), fc.constantFrom("", ",", " ", "\n", "x", "-", ":", "/"))
  .map(([parts, tail]) => parts.map(([r, sep]) => r + sep).join("") + tail);
/** Any string over the grammar's alphabet and some characters outside it. */
const noiseArb = fc.string({ unit: fc.constantFrom(..."0123456789-:/,N aAlL\n\t\0x".split("")), maxLength: 24 });

describe("CpuMask.parse agrees with the kernel's bitmap_parselist() (6.1 lib/bitmap.c)", () => {
  it("on generated lists of regions, valid and invalid: the same CPUs or the same errno", () => {
    fc.assert(
      fc.property(listArb, nbitsArb, (s, nbits) => {
        expect(modelParselist(s, nbits)).toEqual(refParselist(s, nbits));
      }),
      { numRuns: 3000 },
    );
  });

  it("on arbitrary strings over the grammar's alphabet", () => {
    fc.assert(
      fc.property(noiseArb, nbitsArb, (s, nbits) => {
        expect(modelParselist(s, nbits)).toEqual(refParselist(s, nbits));
      }),
      { numRuns: 3000 },
    );
  });

  it("names the field, the value and what is valid in every error", () => {
    fc.assert(
      fc.property(listArb, nbitsArb, (s, nbits) => {
        try {
          CpuMask.parse(s, nbits, "nohz_full");
        } catch (e) {
          expect(e).toBeInstanceOf(CpuListError);
          expect((e as Error).message).toMatch(/^nohz_full: .*\(valid/s);
          expect((e as CpuListError).value).toBe(s);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("CpuMask printing (%*pbl) and parsing round-trip", () => {
  const maskArb = nbitsArb.chain((n) => fc.tuple(fc.constant(n), fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n })));

  it("parse(print(m)) = m, and print is canonical: ranges of 2+ CPUs, ascending, no overlap", () => {
    fc.assert(
      fc.property(maskArb, ([n, cpus]) => {
        const m = CpuMask.of(n, cpus);
        const text = m.toString();
        expect(CpuMask.parse(text, n).equals(m)).toBe(true);
        expect(text).toMatch(/^(\d+(-\d+)?(,\d+(-\d+)?)*)?$/);
        const bounds = text === "" ? [] : text.split(",").map((r) => r.split("-").map(Number));
        for (let i = 0; i < bounds.length; i++) {
          const [a, b = a] = bounds[i]!;
          expect(a!).toBeLessThan(b! + 1);
          if (i > 0) expect(a!).toBeGreaterThan(bounds[i - 1]![bounds[i - 1]!.length - 1]! + 1);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("print(parse(s)) is the same set written canonically, whatever grammar s used", () => {
    fc.assert(
      fc.property(listArb, nbitsArb, (s, nbits) => {
        const ref = refParselist(s, nbits);
        if (!("bits" in ref)) return;
        const m = CpuMask.parse(s, nbits);
        expect(CpuMask.parse(m.toString(), nbits).toArray()).toEqual(ref.bits);
      }),
      { numRuns: 1000 },
    );
  });
});
