import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CmdlineError, parseKernelCmdline } from "./cmdline.js";
import { CpuListError, CpuMask } from "./cpumask.js";

const isspace = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";

/**
 * A reference of kernel/params.c parse_args() splitting, transcribed from 6.1 lib/cmdline.c
 * next_arg() (quotes, the first `=` after the first character, quoted values) after
 * skip_spaces(): the (param, val) pairs in order; `val` null without `=`.
 */
function refArgs(cmdline: string): { param: string; val: string | null }[] {
  const out: { param: string; val: string | null }[] = [];
  const a = [...cmdline];
  let p = 0;
  while (isspace(a[p])) p++;
  while (p < a.length) {
    let inQuote = false;
    let quoted = false;
    if (a[p] === '"') {
      p++;
      inQuote = true;
      quoted = true;
    }
    let i = 0;
    let equals = 0;
    for (; p + i < a.length; i++) {
      if (isspace(a[p + i]) && !inQuote) break;
      if (equals === 0 && a[p + i] === "=") equals = i;
      if (a[p + i] === '"') inQuote = !inQuote;
    }
    // The NULs next_arg() writes: at `=`, at a closing quote, at the end of the word.
    const cut = new Set<number>([i]);
    let val: number | null = null;
    if (equals) {
      cut.add(equals);
      val = equals + 1;
      if (a[p + val] === '"') {
        val++;
        if (a[p + i - 1] === '"') cut.add(i - 1);
      }
    }
    if (quoted && i > 0 && a[p + i - 1] === '"') cut.add(i - 1);
    const cString = (from: number): string => {
      let s = "";
      for (let k = from; k < i + 1 && !cut.has(k); k++) s += a[p + k] ?? "";
      return s;
    };
    out.push({ param: cString(0), val: val === null ? null : cString(val) });
    p += i + (p + i < a.length ? 1 : 0);
    while (isspace(a[p])) p++;
  }
  return out;
}

/** Reference lib/kstrtox.c kstrtobool() (6.1). */
function refKstrtobool(s: string): boolean | undefined {
  switch (s[0]) {
    case "y": case "Y": case "t": case "T": case "1":
      return true;
    case "n": case "N": case "f": case "F": case "0":
      return false;
    case "o": case "O":
      if (s[1] === "n" || s[1] === "N") return true;
      if (s[1] === "f" || s[1] === "F") return false;
  }
  return undefined;
}

const NR = 16;
const listArb = fc.constantFrom("1-7", "1-N", "2,4", "0-15:2/4", "3", "1-3,8-N:1/2", "all");
const wordArb = fc.oneof(
  listArb.map((l) => `nohz_full=${l}`),
  listArb.map((l) => `isolcpus=${l}`),
  listArb.map((l) => `isolcpus=nohz,managed_irq,${l}`),
  listArb.map((l) => `rcu_nocbs=${l}`),
  listArb.map((l) => `"nohz_full=${l}"`),
  listArb.map((l) => `nohz_full="${l}"`),
  listArb.map((l) => `nohz-full=${l}`),
  fc.constantFrom("irqaffinity=0", "quiet", "root=/dev/sda1", "console=ttyS0,115200", "=x", "a=b=c", 'x="a b"', "--", "init=/bin/sh"),
  fc.string({ unit: fc.constantFrom(..."ab=\" -".split("")), maxLength: 8 }),
  fc.tuple(fc.constantFrom("qpw=", "qpw="), fc.string({ unit: fc.constantFrom(..."01yYnNtTfFoOx".split("")), maxLength: 3 })).map(([a, b]) => a + b),
);
const cmdlineArb = fc.tuple(fc.array(fc.tuple(wordArb, fc.constantFrom(" ", "  ", "\t", "\n")), { maxLength: 6 }), fc.constantFrom("", " ", "\n")).map(
  ([ws, lead]) => lead + ws.map(([w, s]) => w + s).join(""),
);

/** What the model makes of a command line, or the error's class. */
function model(cmdline: string): ReturnType<typeof parseKernelCmdline> | "CpuListError" | "CmdlineError" {
  try {
    return parseKernelCmdline(cmdline, NR);
  } catch (e) {
    if (e instanceof CpuListError) return "CpuListError";
    if (e instanceof CmdlineError) return "CmdlineError";
    throw e;
  }
}

describe("parseKernelCmdline agrees with the kernel's next_arg() and __setup() handlers (6.1)", () => {
  it("takes nohz_full= from the first word that sets it, as next_arg() splits and unquotes the line", () => {
    fc.assert(
      fc.property(cmdlineArb, (cmdline) => {
        const m = model(cmdline);
        if (typeof m === "string") return;
        const args = refArgs(cmdline);
        const end = args.findIndex((a) => a.param === "--" && a.val === null);
        const before = end < 0 ? args : args.slice(0, end);
        const first = before.find((a) => a.param.replace(/-/g, "_") === "nohz_full" && a.val !== null);
        if (first === undefined) expect(m.nohzFull).toBeUndefined();
        else expect(m.nohzFull!.toArray()).toEqual(CpuMask.parse(first.val!, NR).toArray());
      }),
      { numRuns: 2000 },
    );
  });

  it("passes every word after -- and every unknown word to init, in order", () => {
    fc.assert(
      fc.property(cmdlineArb, (cmdline) => {
        const m = model(cmdline);
        if (typeof m === "string") return;
        const known = ["nohz_full", "isolcpus", "rcu_nocbs", "irqaffinity", "qpw"];
        const args = refArgs(cmdline);
        const end = args.findIndex((a) => a.param === "--" && a.val === null);
        const unknownBefore = (end < 0 ? args : args.slice(0, end)).filter((a) => {
          const name = a.param.replace(/-/g, "_");
          if (name === "rcu_nocbs") return false;
          if (a.param === "nopti" && a.val === null) return false;
          if (a.param === "pti" && a.val !== null) return false;
          return !(known.includes(name) && a.val !== null);
        });
        expect(m.unknown.length).toBe(unknownBefore.length + (end < 0 ? 0 : args.length - end));
      }),
      { numRuns: 2000 },
    );
  });

  it("reads qpw= as kstrtobool() does (t/f, and on/of(f) from the first two characters)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."01yYnNtTfFoOx".split("")), minLength: 1, maxLength: 4 }), (v) => {
        expect(parseKernelCmdline(`qpw=${v}`, NR).qpw).toBe(refKstrtobool(v));
      }),
      { numRuns: 1000 },
    );
    expect(parseKernelCmdline("qpw=true", NR).qpw).toBe(true);
    expect(parseKernelCmdline("qpw=false", NR).qpw).toBe(false);
    expect(parseKernelCmdline("qpw=of", NR).qpw).toBe(false);
  });
});
