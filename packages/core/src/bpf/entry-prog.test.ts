import { describe, expect, it } from "vitest";
import { buildKernel } from "../simulate.js";
import type { ScenarioSpec } from "../scenario.js";
import type { Kernel } from "../kernel.js";
import { attachEntryBpfProg } from "./entry-prog.js";

const MS = 1_000_000;

function run(skipCpu: number | null): { k: Kernel; starts: number[]; runs: number } {
  const spec: ScenarioSpec = {
    name: "bpf-entry-prog",
    seed: 1,
    duration: 80 * MS,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 8, hz: 1000, nohzFull: "1-7" },
    workload: [{ type: "user-loop", cpus: "1-7" }, { type: "syscall", cpus: "3", every: 1.3 * MS, call: "getpid" }],
  };
  const k = buildKernel(spec);
  if (skipCpu !== null) {
    k.tlb.flushKernelRange = (f) => {
      for (let cpu = 0; cpu < k.nrCpus; cpu++) if (cpu !== f.from && cpu !== skipCpu) k.tlb.sendFlushIpi(f, cpu);
      f.localNs += k.tlb.flushLocal(f.from, f);
    };
  }
  const prog = attachEntryBpfProg(k, { step: "stack_switch", cpu: 0, every: MS, pages: 1023 });
  const starts: number[] = [];
  k.hooks.tick.push((cpu) => {
    if (cpu === 0 && prog.image && starts[starts.length - 1] !== prog.image.start) starts.push(prog.image.start);
  });
  k.engine.runUntil(spec.duration);
  k.finish();
  return { k, starts, runs: prog.runs };
}

describe("a BPF program run at a kernel-entry step and re-JIT'd from a housekeeping CPU", () => {
  it("is run at every entry, and a purge hands a freed image's addresses to a later image", () => {
    const { k, starts, runs } = run(null);
    expect(k.vmalloc.purges).toBe(2);
    expect(runs).toBeGreaterThan(60);
    expect(new Set(starts).size).toBeLessThan(starts.length);
    expect(k.invariants.violations).toEqual([]);
  });

  it("a CPU the flush skipped runs the re-mapped image through its stale translation (tlb-no-stale)", () => {
    const stale = run(3).k.invariants.violations.filter((v) => v.invariant === "tlb-no-stale");
    expect(stale.length).toBeGreaterThan(0);
    expect(stale.every((v) => v.cpu === 3)).toBe(true);
  });
});
