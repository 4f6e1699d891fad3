import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "../../simulate.js";
import type { ScenarioSpec, WorkloadSpec } from "../../scenario.js";
import { CT_RCU_WATCHING, CtState } from "../../machine/cpu.js";
import { EntryKind, kernelEntryStepsOf } from "./entry.js";
import type { KernelEntryStep } from "./entry.js";

const MS = 1_000_000;

function spec(workload: WorkloadSpec[], params: Record<string, unknown> = {}, duration = 20 * MS): ScenarioSpec {
  return {
    name: "entry",
    seed: 1,
    duration,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "2-3", params },
    workload,
  };
}

describe("kernel entry steps per version", () => {
  it("4.9 (no PTI) has no CR3 switch: stack switch and pt_regs, then context tracking, then the sys_enter tracepoint", () => {
    expect(kernelEntryStepsOf({ pti: false })).toEqual(["register_save", "stack_switch", "context_tracking", "syscall_trace", "deferred_work"]);
    expect(kernelEntryStepsOf({ pti: true })).toEqual(["register_save", "cr3_switch", "stack_switch", "context_tracking", "syscall_trace", "deferred_work"]);
    const k = buildKernel(spec([]));
    expect(k.params.pti).toBe(false);
    expect(k.entry.has("cr3_switch")).toBe(false);
    expect(buildKernel(spec([], { pti: true })).entry.has("cr3_switch")).toBe(true);
  });

  it("runs the steps in the kernel's order, telling hooks a syscall from an interrupt", () => {
    for (const pti of [false, true]) {
      const k = buildKernel(spec([{ type: "user-loop", cpus: "2" }, { type: "syscall", cpus: "2", every: 5 * MS, call: "getpid" }], { pti }));
      const seen: string[] = [];
      for (const step of k.entry.steps) k.entry.on(step, (cpu, kind) => void (cpu === 2 && kind === EntryKind.syscall && seen.push(step)));
      // The context-tracking step is where the word leaves the user state: hooks before it still see user.
      const stateAt: Partial<Record<KernelEntryStep, number>> = {};
      for (const step of k.entry.steps) k.entry.on(step, (cpu, kind) => void (cpu === 2 && kind === EntryKind.syscall && (stateAt[step] = k.cpus[2]!.ctState())));
      k.engine.runUntil(6 * MS);
      expect(seen).toEqual([...k.entry.steps]);
      expect(stateAt.stack_switch).toBe(CtState.user);
      expect(stateAt.context_tracking).toBe(CtState.kernel);
      expect(stateAt.syscall_trace).toBe(CtState.kernel);
    }
  });
});

describe("context tracking on nohz_full CPUs only (4.9 tick_nohz_init() → context_tracking_cpu_set())", () => {
  const load: WorkloadSpec[] = [
    { type: "user-loop", cpus: "1-3" },
    { type: "syscall", cpus: "1-3", every: MS / 4, call: "getpid" },
  ];

  it("a housekeeping CPU's syscalls move neither its state nor its RCU counter; a nohz_full CPU's do, twice each", () => {
    const k = buildKernel(spec(load));
    k.engine.runUntil(5 * MS);
    const hk = k.cpus[1]!, iso = k.cpus[2]!;
    const hkCtr = Math.floor(hk.ctWord / CT_RCU_WATCHING), isoCtr = Math.floor(iso.ctWord / CT_RCU_WATCHING);
    expect(hk.ctState()).toBe(CtState.kernel);
    k.engine.runUntil(10 * MS);
    expect(hk.ctState()).toBe(CtState.kernel);
    expect(Math.floor(hk.ctWord / CT_RCU_WATCHING)).toBe(hkCtr);
    // 20 syscalls in 5 ms: an exit to user and an entry each (the tick stays stopped in between).
    expect(Math.floor(iso.ctWord / CT_RCU_WATCHING) - isoCtr).toBeGreaterThanOrEqual(40);
  });

  it("a housekeeping CPU in user mode still reports its quiescent states (the tick's rcu_check_callbacks(user)): grace periods complete, no violation", () => {
    const { kernel: k, report } = simulate(spec([...load, { type: "syscall", cpus: "1-3", every: 3 * MS, call: "call-rcu" }], {}, 200 * MS));
    const rsp = k.rcu.callRcuState;
    expect(rsp.gpsCompleted).toBeGreaterThan(5);
    expect(k.rcu.stats.callbacksInvoked).toBeGreaterThan(0);
    expect(report.invariants.violations).toEqual([]);
  });

  it("any CPU leaving idle bumps the counter (rcu_idle_exit() / rcu_irq_enter() from idle)", () => {
    const k = buildKernel(spec([{ type: "wakeup", cpus: "1", every: MS, run: 10_000 }]));
    k.engine.runUntil(MS / 2);
    const before = Math.floor(k.cpus[1]!.ctWord / CT_RCU_WATCHING);
    k.engine.runUntil(5 * MS + MS / 2);
    expect(Math.floor(k.cpus[1]!.ctWord / CT_RCU_WATCHING) - before).toBeGreaterThanOrEqual(10);
    expect(k.cpus[1]!.ctState()).toBe(CtState.idle);
  });
});
