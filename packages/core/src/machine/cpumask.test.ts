import { describe, expect, it } from "vitest";
import { CpuListError, CpuMask } from "./cpumask.js";
import type { CpuListErrno } from "./cpumask.js";

/** The mask as one integer, bit n = CPU n, like the kernel's BITMAP_FROM_U64() expectations. */
const bits = (mask: CpuMask): bigint => mask.toArray().reduce((acc, cpu) => acc | (1n << BigInt(cpu)), 0n);
const list = (s: string, nr: number): number[] => CpuMask.parse(s, nr).toArray();
const errorOf = (s: string, nr: number, field?: string): CpuListError => {
  try {
    CpuMask.parse(s, nr, field);
  } catch (err) {
    if (err instanceof CpuListError) return err;
    throw err;
  }
  throw new Error(`"${s}" parsed`);
};

describe("bitmap_parselist() grammar", () => {
  it("takes the kernel's documented example 0-1023:2/256", () => {
    expect(list("0-1023:2/256", 1024)).toEqual([0, 1, 256, 257, 512, 513, 768, 769]);
  });

  it("mixes single CPUs, ranges and a strided range", () => {
    expect(list("1-3,5,7-15:1/2", 16)).toEqual([1, 2, 3, 5, 7, 9, 11, 13, 15]);
  });

  it("reads N as the last CPU anywhere a number goes", () => {
    expect(list("N", 8)).toEqual([7]);
    expect(list("2-N", 8)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(list("0-N:1/2", 8)).toEqual([0, 2, 4, 6]);
    expect(list("0-N:N/N", 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("reads all (any case) as 0-N, with an optional stride", () => {
    expect(CpuMask.parse("all", 8).toString()).toBe("0-7");
    expect(CpuMask.parse("ALL:1/2", 8).toString()).toBe("0,2,4,6");
  });

  it("gives the empty mask for an empty list or separators alone", () => {
    for (const s of ["", "\n", ",,,", "  ", " ,\t, \n"]) expect(CpuMask.parse(s, 8).isEmpty()).toBe(true);
  });

  it("tolerates commas and whitespace between regions, as bitmap_find_region() skips them", () => {
    expect(list("1,,2", 8)).toEqual([1, 2]);
    expect(list(" 1 2\t3 ,5, ", 8)).toEqual([1, 2, 3, 5]);
  });

  it("stops at a newline that ends a region: nothing after it is read", () => {
    expect(list("1\n2", 8)).toEqual([1]);
    expect(list("\n2", 8)).toEqual([2]);
  });

  it("allows used = 0 (sets nothing) and reads a region glued after a group size, as the kernel does", () => {
    expect(list("0-7:0/2", 8)).toEqual([]);
    expect(list("0-7:1/4N", 8)).toEqual([0, 4, 7]);
  });

  // lib/test_bitmap.c parselist_tests[] (6.1), successful cases: input, nbits, expected bits.
  const kernelOk: [string, number, bigint][] = [
    ["0", 8, 1n],
    ["1", 8, 2n],
    ["0-15", 32, 0xffffn],
    ["16-31", 32, 0xffff0000n],
    ["0-31:1/2", 32, 0x55555555n],
    ["1-31:1/2", 32, 0xaaaaaaaan],
    ["0-31:1/4", 32, 0x11111111n],
    ["1-31:1/4", 32, 0x22222222n],
    ["0-31:4/4", 32, 0xffffffffn],
    ["1-31:4/4", 32, 0xfffffffen],
    ["0-31:1/4,32-63:2/4", 64, 0x3333333311111111n],
    ["0-31:3/4,32-63:4/4", 64, 0xffffffff77777777n],
    ["  ,,  0-31:3/4  ,, 32-63:4/4  ,,  ", 64, 0xffffffff77777777n],
    ["0-31:1/4,32-63:2/4,64-95:3/4,96-127:4/4", 128, (0xffffffff77777777n << 64n) | 0x3333333311111111n],
    ["", 8, 0n],
    ["\n", 8, 0n],
    [",,  ,,  , ,  ,", 8, 0n],
    [" ,  ,,  , ,   \n", 8, 0n],
    ["0-0", 32, 1n],
    ["31-31", 32, 0x80000000n],
    ["0-0:0/1", 32, 0n],
    ["0-0:31/31", 32, 1n],
    ["0-15:16/31", 32, 0xffffn],
    ["15-31:1/31", 32, 0x8000n],
    ["16-31:16/31", 32, 0xffff0000n],
    ["N-N", 32, 0x80000000n],
    ["0-0:1/N", 32, 1n],
    ["15-N:1/N", 32, 0x8000n],
    ["16-N:16/N", 32, 0xffff0000n],
    ["N-N:N/N", 32, 0x80000000n],
    ["0-N:1/3,1-N:1/3,2-N:1/3", 32, 0xffffffffn],
    ["1-10:8/12,8-31:24/29,0-31:0/3", 32, 0xfffffffen],
    ["all", 32, 0xffffffffn],
    ["0, 1, all,  ", 32, 0xffffffffn],
    ["all:1/2", 32, 0x55555555n],
    ["ALL:1/2", 32, 0x55555555n],
  ];
  it.each(kernelOk)("parses %j on %i bits as the kernel's self-test expects", (s, nr, expected) => {
    expect(bits(CpuMask.parse(s, nr))).toBe(expected);
  });

  // The same table's failures, plus inputs a user might type.
  const kernelErr: [string, number, CpuListErrno][] = [
    ["al", 8, "EINVAL"],
    ["alll", 8, "EINVAL"],
    ["-1", 8, "EINVAL"],
    ["-0", 8, "EINVAL"],
    ["10-1", 8, "EINVAL"],
    ["8-8", 8, "ERANGE"],
    ["0-31", 8, "ERANGE"],
    ["0-31:", 32, "EINVAL"],
    ["0-31:0", 32, "EINVAL"],
    ["0-31:0/", 32, "EINVAL"],
    ["0-31:0/0", 32, "EINVAL"],
    ["0-31:1/0", 32, "EINVAL"],
    ["0-31:10/1", 32, "EINVAL"],
    ["0-98765432123456789:10/1", 8, "EOVERFLOW"],
    ["a-31", 8, "EINVAL"],
    ["0-a1", 8, "EINVAL"],
    ["a-31:10/1", 8, "EINVAL"],
    ["0-31:a/1", 8, "EINVAL"],
    ["0-\n", 8, "EINVAL"],
    ["1-", 8, "EINVAL"],
    ["a", 8, "EINVAL"],
    ["1a", 8, "EINVAL"],
    ["n", 8, "EINVAL"],
    ["+1", 8, "EINVAL"],
    ["0x1", 8, "EINVAL"],
    ["1;2", 8, "EINVAL"],
    ["5:1/2", 8, "EINVAL"],
    ["all-3", 8, "EINVAL"],
    ["0-7:1/2x", 8, "EINVAL"],
    ["4294967295", 8, "ERANGE"],
    ["4294967296", 8, "EOVERFLOW"],
  ];
  it.each(kernelErr)("rejects %j on %i bits with -%s", (s, nr, errno) => {
    const err = errorOf(s, nr);
    expect(err.errno).toBe(errno);
    expect(err.value).toBe(s);
    expect(err.field).toBe("cpus");
  });
});

describe("CpuListError messages name the field, the value and what is valid", () => {
  it("CPU beyond the machine (-ERANGE)", () => {
    expect(errorOf("1-9", 8, "nohz_full").message).toBe(
      "nohz_full: CPU 9 is out of range for a machine of 8 CPUs (valid: 0-7)",
    );
    expect(errorOf("1", 1, "cpus").message).toBe("cpus: CPU 1 is out of range for a machine of 1 CPUs (valid: 0)");
  });

  it("a range that runs backwards (-EINVAL)", () => {
    const { message } = errorOf("0,5-3", 8, "isolcpus");
    expect(message).toMatch(/^isolcpus: range "5-3" in "0,5-3" starts at 5, after its end 3/);
    expect(message).toContain("valid: start <= end");
  });

  it("a group that uses more CPUs than it has, or has none (-EINVAL)", () => {
    expect(errorOf("0-7:3/2", 8).message).toContain('range "0-7:3/2" in "0-7:3/2" uses 3 of every 2 CPUs');
    expect(errorOf("0-7:0/0", 8).message).toContain("group size >= 1");
  });

  it("garbage, with its position and the syntax (-EINVAL)", () => {
    expect(errorOf("1-", 8, "rcu_nocbs").message).toMatch(
      /^rcu_nocbs: unexpected end of list at position 2 of "1-", expected a CPU number or N \(valid: .*"0-3,5"/,
    );
    expect(errorOf("1a", 8).message).toContain('unexpected "a" at position 1 of "1a", expected "-", "," or the end');
    expect(errorOf("0-3:1", 8).message).toContain('expected "/"');
  });

  it("a number that does not fit an unsigned int (-EOVERFLOW)", () => {
    expect(errorOf("99999999999", 8).message).toBe(
      'cpus: number 99999999999 in "99999999999" is too large (valid CPUs: 0-7)',
    );
  });
});

describe("CpuMask", () => {
  it("prints the kernel's %*pbl list format and reads it back", () => {
    for (const s of ["", "0", "0-3,5,7-9", "1,3,5,7", "0-8191", "31-32,63-64,8191"]) {
      const mask = CpuMask.parse(s, 8192);
      expect(mask.toString()).toBe(s);
      expect(CpuMask.parse(mask.toString(), 8192).equals(mask)).toBe(true);
    }
  });

  it("sets, tests and clears CPUs across word boundaries", () => {
    const mask = new CpuMask(100).set(0).set(31).set(32).set(99);
    expect([mask.has(31), mask.has(32), mask.has(33)]).toEqual([true, true, false]);
    expect(mask.weight()).toBe(4);
    mask.clear(31);
    expect(mask.toArray()).toEqual([0, 32, 99]);
  });

  it("walks set CPUs with first() and next(), -1 when none is left", () => {
    const mask = CpuMask.of(70, [3, 40, 69]);
    expect(mask.first()).toBe(3);
    expect(mask.next(3)).toBe(40);
    expect(mask.next(40)).toBe(69);
    expect(mask.next(69)).toBe(-1);
    expect(mask.next(-1)).toBe(3);
    expect(new CpuMask(70).first()).toBe(-1);
    const seen: number[] = [];
    mask.forEach((cpu) => seen.push(cpu));
    expect(seen).toEqual([3, 40, 69]);
  });

  it("counts every CPU of a full mask and none beyond nr_cpu_ids", () => {
    const full = CpuMask.full(37);
    expect(full.weight()).toBe(37);
    expect(full.toString()).toBe("0-36");
    expect(CpuMask.full(8192).weight()).toBe(8192);
  });

  it("combines masks into new ones (cpumask_and/or/andnot)", () => {
    const a = CpuMask.parse("0-5", 8);
    const b = CpuMask.parse("4-7", 8);
    expect(a.and(b).toString()).toBe("4-5");
    expect(a.or(b).toString()).toBe("0-7");
    expect(a.andNot(b).toString()).toBe("0-3");
    expect(a.toString()).toBe("0-5");
    expect(a.intersects(b)).toBe(true);
    expect(a.intersects(CpuMask.of(8, [6]))).toBe(false);
    expect(CpuMask.of(8, [1, 2]).isSubsetOf(a)).toBe(true);
    expect(b.isSubsetOf(a)).toBe(false);
  });

  it("copies on clone and compares by content", () => {
    const a = CpuMask.parse("1-3", 8);
    const c = a.clone();
    expect(c.equals(a)).toBe(true);
    c.set(7);
    expect(c.equals(a)).toBe(false);
    expect(a.has(7)).toBe(false);
    expect(CpuMask.parse("1-3", 16).equals(a)).toBe(false);
  });

  it("refuses CPUs outside the machine and masks of different machines", () => {
    expect(() => new CpuMask(8).set(8)).toThrow("CPU 8 is out of range for a machine of 8 CPUs (valid: 0-7)");
    expect(() => new CpuMask(8).has(-1)).toThrow(RangeError);
    expect(() => new CpuMask(8).and(new CpuMask(16))).toThrow(RangeError);
    expect(() => new CpuMask(0)).toThrow(RangeError);
  });
});
