import { describe, expect, it } from "vitest";
import { simulate } from "../simulate.js";
import type { ScenarioSpec, WorkloadSpec } from "../scenario.js";
import type { Mechanism } from "../mechanism.js";
import type { Segment } from "../machine/cpu.js";
import type { TraceSink } from "../trace.js";
import { VmItem, calculateNormalThreshold, fls } from "./vmstat.js";

const S = 1_000_000_000;
const MS = 1_000_000;

function scenario(workload: WorkloadSpec[], over: Partial<ScenarioSpec> = {}): ScenarioSpec {
  return {
    name: "vmstat",
    seed: 1,
    duration: 10 * S,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3" },
    workload: [{ type: "user-loop", cpus: "1-3" }, ...workload],
    ...over,
  };
}

/** Start times of the segments named `name` on `cpu`. */
function starts(name: string, cpu: number): { sink: TraceSink; times: number[] } {
  const times: number[] = [];
  const sink: TraceSink = {
    slice() {},
    instant() {},
    flow() {},
    segment(c: number, seg: Segment) {
      if (c === cpu && seg.name === name) times.push(seg.startedAt);
    },
  };
  return { sink, times };
}

const write: WorkloadSpec = { type: "syscall", cpus: "1", call: "file-write", every: 2 * S, at: 1500 * MS };

describe("vmstat (linux-4.9, residual tick)", () => {
  it("computes calculate_normal_threshold(): min(125, 2*fls(cpus)*(1+fls(MB/128)))", () => {
    expect(fls(0)).toBe(0);
    expect(fls(8)).toBe(4);
    expect(calculateNormalThreshold(8, 4096)).toBe(56);
    expect(calculateNormalThreshold(4, 4096)).toBe(42);
    expect(calculateNormalThreshold(1024, 65536)).toBe(125);
  });

  it("a file write on an isolated CPU brings vmstat_update about a second later, then once more at a residual tick; CPUs that never write get none", () => {
    const { sink, times } = starts("vmstat_update", 1);
    const { report } = simulate(scenario([write]), { trace: sink });
    const [, cpu1, cpu2, cpu3] = report.cpus;
    // Writes at 1.5, 3.5, 5.5, 7.5 s. The shepherd (round_jiffies_relative(HZ), filed at wheel level 2:
    // 64 ms granularity) runs at 2.048 and 4.032 s and queues the work; each run re-arms it (deferrable)
    // and the residual tick runs it once more. The one re-armed at 4.032 s is filed in the 5.056 s
    // bucket, after the 5.033 s residual tick, so it waits for the 6.033 s tick and folds the 5.5 s
    // write: the third and fourth writes share their runs (6.033, 8.034 s), 6 runs for 4 writes.
    expect(cpu1!.interruptions.kworker_vmstat).toBe(6);
    expect(times.map((t) => Math.floor(t / MS))).toEqual([2048, 3049, 4032, 6033, 8034, 9035]);
    // The shepherd's queueing is a remote kworker wakeup: resched IPI + SCHED kick.
    expect(cpu1!.interruptions.ipi_resched).toBe(2);
    expect(cpu1!.interruptions.ipi_irq_work).toBeGreaterThanOrEqual(6);
    expect(cpu2!.interruptions.kworker_vmstat).toBe(0);
    expect(cpu3!.interruptions.kworker_vmstat).toBe(0);
    expect(cpu2!.interruptions.ipi_resched).toBe(0);
    // The shepherd runs each second in a kworker of the housekeeping CPU.
    expect(report.cpus[0]!.interruptions.kworker_other).toBeGreaterThanOrEqual(9);
    expect(report.invariants.violations).toEqual([]);
    expect(report.invariants.checked).toEqual(expect.arrayContaining(["vmstat-exact", "vmstat-threshold"]));
  });

  it("keeps global + per-CPU diffs exact and every diff within the threshold", () => {
    const { kernel, report } = simulate(scenario([{ ...write, every: 10 * MS, at: 10 * MS, pages: 30 } as WorkloadSpec], { duration: 2 * S }));
    const vm = kernel.vmstat;
    for (const item of [VmItem.NR_FILE_DIRTY, VmItem.NR_FREE_PAGES, VmItem.NR_INACTIVE_FILE]) {
      expect(vm.snapshot(item)).toBe(vm.truth[item]);
    }
    expect(vm.truth[VmItem.NR_FILE_DIRTY]).toBe(199 * 30);
    expect(Math.abs(vm.diff(1, VmItem.NR_FILE_DIRTY))).toBeLessThanOrEqual(vm.threshold);
    expect(report.invariants.violations).toEqual([]);
  });

  it("quiet_vmstat() folds at the first tick stop only when the 4.17+ parameter says so", () => {
    const off = simulate(scenario([write], { duration: 4 * S }));
    const on = simulate(scenario([write], { duration: 4 * S, kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3", params: { vmstat_quiet_at_tick_stop: true } } }));
    expect(off.report.invariants.violations).toEqual([]);
    expect(on.report.invariants.violations).toEqual([]);
    // With the fold at tick stop, the diffs the write left are folded before the re-armed run, which finds nothing.
    expect(on.kernel.vmstat.updatesRearmed).toBeLessThanOrEqual(off.kernel.vmstat.updatesRearmed);
  });

  it("reports vmstat-exact when a fold loses a delta", () => {
    const lossy: Mechanism = {
      name: "lossy-fold",
      description: "refresh_cpu_vm_stats() that drops NR_FILE_DIRTY",
      install(k) {
        const fold = k.vmstat.foldCpu;
        k.vmstat.foldCpu = (cpu) => {
          k.vmstat.diffs[cpu * 13 + VmItem.NR_FILE_DIRTY] = 0;
          return fold(cpu);
        };
      },
    };
    const { report } = simulate(scenario([write], { duration: 4 * S }), { mechanisms: [lossy] });
    const v = report.invariants.violations.filter((x) => x.invariant === "vmstat-exact");
    expect(v.length).toBeGreaterThan(0);
    // Found live, at the first fold of the 1.5 s write: vmstat_update queued by the shepherd at 2.048 s.
    expect(v[0]).toMatchObject({ invariant: "vmstat-exact", cpu: 1 });
    expect(v[0]!.time_ns).toBeGreaterThan(2048 * MS);
    expect(v[0]!.time_ns).toBeLessThan(2049 * MS);
    expect(v[0]!.detail).toBe("NR_FILE_DIRTY: global 0 + per-CPU diffs 0 = 0, true total 8");
  });

  it("reports vmstat-threshold when per-CPU diffs may grow past calculate_normal_threshold()", () => {
    const loose: Mechanism = {
      name: "loose-threshold",
      description: "a stat_threshold larger than the kernel's formula",
      install(k) {
        k.vmstat.threshold = 1000;
      },
    };
    const { report } = simulate(scenario([{ ...write, pages: 64 } as WorkloadSpec], { duration: 4 * S }), { mechanisms: [loose] });
    const v = report.invariants.violations.filter((x) => x.invariant === "vmstat-threshold");
    // Found live, during the 1.5 s write: its 43rd page takes the diffs past 42 (4 CPUs, 4 GiB).
    expect(v[0]).toMatchObject({ invariant: "vmstat-threshold", cpu: 1 });
    expect(v[0]!.time_ns).toBeGreaterThanOrEqual(1500 * MS);
    expect(v[0]!.time_ns).toBeLessThan(1501 * MS);
    expect(v[0]!.detail).toBe("NR_FREE_PAGES diff -43 on CPU 1 exceeds calculate_normal_threshold() = 42");
  });
});
