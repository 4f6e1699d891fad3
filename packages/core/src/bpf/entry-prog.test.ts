import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "../simulate.js";
import type { ScenarioSpec } from "../scenario.js";
import type { Kernel } from "../kernel.js";
import { attachEntryBpfProg } from "./entry-prog.js";
import { EntryKind } from "../arch/x86/entry.js";

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

describe("the bpf workload", () => {
  const spec = (w: Partial<Extract<ScenarioSpec["workload"][number], { type: "bpf" }>> = {}, duration = 50 * MS): ScenarioSpec => ({
    name: "bpf",
    seed: 1,
    duration,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3" },
    workload: [
      { type: "user-loop", cpus: "1-3" },
      { type: "syscall", cpus: "1-3", every: 2 * MS, call: "getpid" },
      { type: "bpf", cpus: "2", every: MS, pages: 1023, ...w },
    ],
  });

  it("the first attach patches text: text_poke_bp()'s 3 sync rounds IPI every other CPU (ipi_call_function); later loads do not", () => {
    const { kernel: k, report } = simulate(spec());
    for (const cpu of [1, 2, 3]) expect(report.cpus[cpu]!.interruptions.ipi_call_function).toBe(3);
    expect(report.cpus[0]!.interruptions.ipi_call_function).toBe(0);
    // 49 loads of 1024 pages on 4 CPUs (lazy_max_pages() 24576): a purge every 25 vfree()s.
    expect(k.vmalloc.purges).toBe(1);
    expect(report.housekeeping.tlb_flushes).toBe(1);
    for (const cpu of [1, 2, 3]) expect(report.cpus[cpu]!.interruptions.ipi_tlb_flush).toBe(1);
    expect(report.invariants.violations).toEqual([]);
  });

  it("runs on the listed CPUs' syscalls only, at the attach point's step", () => {
    for (const attach of ["sys_enter", "kprobe"] as const) {
      const base = spec({}, 30 * MS);
      const k = buildKernel({ ...base, workload: base.workload.slice(0, 2) });
      const prog = attachEntryBpfProg(k, { attach, cpus: [2], cpu: 0, every: MS, pages: 4 });
      expect(prog.step).toBe(attach === "sys_enter" ? "syscall_trace" : "stack_switch");
      const syscalls = [0, 0, 0, 0];
      let entries = 0;
      k.entry.on(prog.step, (cpu, kind) => {
        if (prog.image === null) return;
        entries++;
        if (kind === EntryKind.syscall) syscalls[cpu]!++;
      });
      k.engine.runUntil(30 * MS);
      expect(syscalls[2]).toBeGreaterThan(10);
      expect(syscalls[1]).toBeGreaterThan(10);
      expect(entries).toBeGreaterThan(syscalls[1]! + syscalls[2]! + syscalls[3]!);
      expect(prog.runs).toBe(syscalls[2]);
      expect(prog.loads).toBe(29);
      expect(prog.textPokes).toBe(1);
    }
  });

  it("rejects an unknown attach point and a bad page count, naming the field", () => {
    expect(() => buildKernel(spec({ attach: "fentry" as "kprobe" }))).toThrow(/workload\[2\]\.attach: "fentry" is not valid \(valid: sys_enter, kprobe\)/);
    expect(() => buildKernel(spec({ pages: 0 }))).toThrow(/workload\[2\]\.pages: 0 is not valid/);
  });
});
