import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "../simulate.js";
import type { ScenarioSpec, WorkloadSpec } from "../scenario.js";
import { Src } from "../accounting/sources.js";
import { initWork } from "./workqueue.js";

const S = 1_000_000_000;
const MS = 1_000_000;

function scenario(workload: WorkloadSpec[], over: Partial<ScenarioSpec> = {}, params: Record<string, unknown> = {}): ScenarioSpec {
  return {
    name: "workqueue",
    seed: 1,
    duration: 3 * S,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3", params },
    workload,
    ...over,
  };
}

const fifoOn1: WorkloadSpec = { type: "user-loop", cpus: "1", policy: "fifo", priority: 50 };
const writeOn1: WorkloadSpec = { type: "syscall", cpus: "1", call: "file-write", every: 500 * MS, at: 100 * MS };
const drainOn0: WorkloadSpec = { type: "lru-drain-all", cpus: "0", every: 200 * MS };

describe("workqueues and kworkers", () => {
  it("creates kworker/N:0 and kworker/N:0H for every CPU and one unbound kworker at boot", () => {
    const k = buildKernel(scenario([]));
    const names = k.sched.tasks.filter((t) => t.role === "kworker").map((t) => t.name);
    expect(names).toEqual(["kworker/0:0", "kworker/0:0H", "kworker/1:0", "kworker/1:0H", "kworker/2:0", "kworker/2:0H", "kworker/3:0", "kworker/3:0H", "kworker/u8:0"]);
    expect(k.sched.tasks.find((t) => t.name === "kworker/u8:0")!.cpu).toBe(0);
    const { report } = simulate(scenario([], { duration: 10 * MS }));
    expect(report.kthreads.kworker).toBe(9);
  });

  it("one kworker wakeup running lru_add_drain_per_cpu then vmstat_update counts one of each", () => {
    const k = buildKernel(scenario([{ type: "user-loop", cpus: "1-3" }]));
    k.engine.runUntil(500 * MS);
    const before = Array.from(k.accounting.cpus[2]!.counts);
    k.executingCpu = 0;
    const wq = k.workqueue;
    expect(wq.queueWorkOn(2, wq.systemWq, initWork("lru_add_drain_per_cpu", () => {}, "kworker_lru_drain", 7000))).toBe(true);
    expect(wq.queueDelayedWorkOn(2, k.vmstat.wq, k.vmstat.work[2]!, 0)).toBe(true);
    k.engine.runUntil(510 * MS);
    const after = Array.from(k.accounting.cpus[2]!.counts);
    const d = (src: number): number => after[src]! - before[src]!;
    expect(d(Src.kworker_lru_drain)).toBe(1);
    expect(d(Src.kworker_vmstat)).toBe(1);
    expect(d(Src.ipi_resched)).toBe(1);
  });

  it("delayed work: pending until its timer queues it; cancel_delayed_work() takes it back; flush_work() of idle work does not wait", () => {
    const k = buildKernel(scenario([]));
    k.engine.runUntil(100 * MS);
    const wq = k.workqueue;
    let ran = 0;
    const dw = wq.initDelayedWork("test_fn", () => ran++, "kworker_other", 1000, false);
    expect(wq.queueDelayedWorkOn(0, wq.systemWq, dw, 10 * MS)).toBe(true);
    expect(wq.delayedWorkPending(dw)).toBe(true);
    expect(wq.queueDelayedWorkOn(0, wq.systemWq, dw, 10 * MS)).toBe(false);
    expect(wq.cancelDelayedWork(dw)).toBe(true);
    expect(wq.delayedWorkPending(dw)).toBe(false);
    k.engine.runUntil(200 * MS);
    expect(ran).toBe(0);
    wq.queueDelayedWorkOn(0, wq.systemWq, dw, 10 * MS);
    k.engine.runUntil(300 * MS);
    expect(ran).toBe(1);
    expect(wq.delayedWorkPending(dw)).toBe(false);
    expect(wq.flushWork(dw, k.sched.tasks[0]!, () => {})).toBe(false);
  });

  it("a SCHED_FIFO task with RT throttling off starves the kworker: the flush_work() of lru_add_drain_all() hangs and is reported", () => {
    const { report } = simulate(scenario([fifoOn1, writeOn1, drainOn0], { duration: 8 * S }, { sched_rt_runtime_ns: -1 }));
    const v = report.invariants.violations.filter((x) => x.invariant === "workqueue-progress");
    expect(v.length).toBe(1);
    expect(v[0]!.cpu).toBe(1);
    expect(v[0]!.detail).toContain("flush_work(lru_add_drain_per_cpu)");
    expect(v[0]!.detail).toContain("SCHED_FIFO");
    expect(report.cpus[1]!.interruptions.kworker_lru_drain).toBe(0);
  });

  it("in 4.9 RT_RUNTIME_SHARE lets the FIFO task borrow the idle CPUs' RT runtime: default throttling never fires and the flush hangs", () => {
    const { report } = simulate(scenario([fifoOn1, writeOn1, drainOn0], { duration: 8 * S }));
    const v = report.invariants.violations.filter((x) => x.invariant === "workqueue-progress");
    expect(v.length).toBe(1);
    expect(v[0]!.cpu).toBe(1);
    expect(report.cpus[1]!.interruptions.kworker_lru_drain).toBe(0);
  });

  it("without RT_RUNTIME_SHARE the default RT throttling lets the kworker run in the throttled slice and every flush completes", () => {
    const { report } = simulate(scenario([fifoOn1, writeOn1, drainOn0], { duration: 8 * S }, { rt_runtime_share: false }));
    expect(report.invariants.violations).toEqual([]);
    expect(report.cpus[1]!.interruptions.kworker_lru_drain).toBeGreaterThan(0);
    expect(report.invariants.checked).toContain("workqueue-progress");
  });

  it("reports a flush that waits past the workqueue watchdog threshold while the run goes on", () => {
    const { report } = simulate(scenario([fifoOn1, writeOn1, drainOn0], { duration: 3 * S }, { sched_rt_runtime_ns: -1, workqueue_stall_ns: 1 * S }));
    const v = report.invariants.violations.filter((x) => x.invariant === "workqueue-progress");
    expect(v.length).toBe(1);
    expect(v[0]!.time_ns).toBeLessThan(3 * S);
  });
});
