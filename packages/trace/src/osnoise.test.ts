import { describe, expect, it } from "vitest";
import { InterruptsParser, interruptsDelta } from "./interrupts.js";
import { OsnoiseHistParser, OsnoiseTopParser } from "./osnoise.js";

describe("rtla osnoise and /proc/interrupts parsers", () => {
  it("reads an osnoise top row as osnoise_top_print() prints it (times in us)", () => {
    const p = new OsnoiseTopParser();
    expect(p.line("CPU Period       Runtime        Noise  % CPU Aval   Max Noise   Max Single          HW          NMI          IRQ      Softirq       Thread")).toBeNull();
    expect(p.line("  1 #9           9000000         1234    99.98628         150           45           0            0         9012            3           12")).toBeNull();
    expect(p.cpus.get(1)).toMatchObject({ runtime_us: 9_000_000, noise_us: 1234, available_pct: 99.98628, max_single_us: 45, irq: 9012, thread: 12 });
    expect(p.line("  1 #9  lots")).toMatch(/not an rtla osnoise top row/);
  });
  it("reads an osnoise hist summary per CPU column, in ns", () => {
    const p = new OsnoiseHistParser();
    for (const l of ["# RTLA osnoise histogram", "# Time unit is microseconds (us)", "Index   CPU-001   CPU-002", "0           900       950 ", "count:     1000      1000 ", "avg:       0.50      0.25 ", "max:          5         5 "]) {
      expect(p.line(l)).toBeNull();
    }
    expect(p.cpus.get(2)).toMatchObject({ count: 1000, avg_ns: 250, max_ns: 5000 });
    expect(p.line("avg:  0.5")).toMatch(/want 2 numbers/);
  });
  it("takes per-CPU differences of two /proc/interrupts snapshots", () => {
    const p = new InterruptsParser();
    const snap = (loc: number): string[] => ["           CPU0       CPU1", `  LOC:   ${loc}   ${loc * 2}   Local timer interrupts`, "  ERR:   0"];
    for (const l of [...snap(10), ...snap(15)]) expect(p.line(l)).toBeNull();
    const d = interruptsDelta(p.snapshots)!;
    expect(d.delta).toBe(true);
    expect(d.cpus.get(1)).toEqual({ LOC: 10 });
    expect(p.line("  LOC:   1")).toMatch(/want 2 counts/);
  });
});
