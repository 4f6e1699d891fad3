import { describe, expect, it } from "vitest";
import { CompositionError, InputError, attachEntryBpfProg, buildKernel, buildReport, simulate } from "@isolsim/core";
import type { BpfAttach, KernelEntryStep, Mechanism, Report, ScenarioSpec, WorkloadSpec } from "@isolsim/core";
import { tlbDefer, tlbDeferFromFile, tlbDeferOptionLimits } from "./index.js";

const MS = 1_000_000;
const ISOLATED = [1, 2, 3, 4, 5, 6, 7];
/** vmalloc-churn of 1023 pages + a guard page a millisecond: past lazy_max_pages() (32768 on 8 CPUs) every 33 vfree()s. */
const CHURN: WorkloadSpec = { type: "vmalloc-churn", cpus: "0", every: MS, pages: 1023 };

/** linux-4.9 with page-table isolation (the entry order of v4.15+: the CR3 switch first). */
const PTI = { pti: true };

/** Isolated CPUs 1-7 run a user loop; by default 1.1 s measured after 100 ms (the boot's entries from idle left out). */
function scenario(workload: WorkloadSpec[], duration = 1100 * MS, warmup = 100 * MS, params: Record<string, unknown> = {}): ScenarioSpec {
  return {
    name: "tlb-defer",
    seed: 1,
    duration,
    warmup,
    kernel: { preset: "linux-4.9", cpus: 8, hz: 1000, nohzFull: "1-7", params },
    workload: [{ type: "user-loop", cpus: "1-7" }, ...workload],
  };
}

type Stats = Record<string, number | string | boolean>;
const stats = (r: Report): Stats => r.mechanism_stats["tlb-defer"] as Stats;
const tlbIpis = (r: Report, cpu: number): number => r.cpus[cpu]!.interruptions.ipi_tlb_flush;
const isolatedTicks = (r: Report): number => ISOLATED.reduce((n, cpu) => n + r.cpus[cpu]!.interruptions.tick, 0);

describe("tlb-defer ct-work (Schneider v3: CT_WORK_TLBI in the context-tracking word)", () => {
  it("isolated CPUs in user space get no ipi_tlb_flush; each flushes once at its next kernel entry", () => {
    const base = simulate(scenario([CHURN])).report;
    const { report } = simulate(scenario([CHURN]), { mechanisms: [tlbDefer()] });
    const purges = report.housekeeping.tlb_flushes;
    expect(purges).toBe(30);
    expect(base.housekeeping.tlb_flushes).toBe(purges);
    for (const cpu of ISOLATED) {
      expect(tlbIpis(base, cpu)).toBe(purges);
      expect(tlbIpis(report, cpu)).toBe(0);
      expect(report.cpus[cpu]!.noise_ns).toBeLessThan(base.cpus[cpu]!.noise_ns);
    }
    const s = stats(report);
    // 4.9 has no PTI: the default flush step is the first C step, context tracking.
    expect(s).toMatchObject({ variant: "ct-work", flush_step: "context_tracking", flushes: purges, ipis_sent: 0, ipis_to_isolated: 0 });
    expect(s.deferred_flushes).toBe(7 * purges);
    expect(s.ipis_avoided).toBe(7 * purges);
    // Deferred bits coalesce: the residual 1 Hz tick is the only entry, and it flushes once per CPU.
    expect(isolatedTicks(report)).toBe(7);
    expect(s.isolated_entries).toBe(7);
    expect(s.entry_flushes).toBe(7);
    expect(s.entry_flush_ns_total).toBe(7 * 280);
    expect(s.max_deferral_ns).toBeGreaterThan(900 * MS);
    expect(report.invariants.checked).toEqual(expect.arrayContaining(["tlb-no-stale", "tlb-defer-only-user"]));
    expect(report.invariants.violations).toEqual([]);
    expect(report.kernel.mechanisms).toEqual([{ name: "tlb-defer", variant: "ct-work" }]);
  });

  it("a CPU looping in the kernel still gets the IPI: the cmpxchg fails on CT_STATE_KERNEL", () => {
    const loop: WorkloadSpec = { type: "kernel-loop", cpus: "3", every: 10 * MS, run: 9 * MS };
    const { report } = simulate(scenario([CHURN, loop], 300 * MS, 0), { mechanisms: [tlbDefer()] });
    const purges = report.housekeeping.tlb_flushes;
    expect(purges).toBe(9);
    expect(tlbIpis(report, 3)).toBeGreaterThan(purges / 2);
    expect(tlbIpis(report, 3)).toBeLessThanOrEqual(purges);
    for (const cpu of ISOLATED.filter((c) => c !== 3)) expect(tlbIpis(report, cpu)).toBe(0);
    const s = stats(report);
    expect(s.ipis_sent).toBe(tlbIpis(report, 3));
    expect(s.ipis_to_isolated).toBe(tlbIpis(report, 3));
    expect(s.deferred_flushes).toBe(7 * purges - tlbIpis(report, 3));
    expect(report.invariants.violations).toEqual([]);
  });
});

describe("tlb-defer cr3-switch (Schneider v7: a kernel TLB flush at every CR3 switch)", () => {
  it("needs page-table isolation: on linux-4.9 (pti false) the variant and flush_step cr3_switch are composition errors", () => {
    expect(() => simulate(scenario([], 10 * MS, 0), { mechanisms: [tlbDefer({ variant: "cr3-switch" })] })).toThrow(CompositionError);
    expect(() => simulate(scenario([], 10 * MS, 0), { mechanisms: [tlbDefer({ variant: "cr3-switch" })] })).toThrow(
      /tlb-defer\.variant: "cr3-switch" needs page-table isolation .*pti: false\): use "ct-work", or add pti=on to kernel\.cmdline/,
    );
    expect(() => simulate(scenario([], 10 * MS, 0), { mechanisms: [tlbDefer({ flushStep: "cr3_switch" })] })).toThrow(
      /tlb-defer\.options\.flush_step: "cr3_switch" needs page-table isolation .*valid here: register_save, stack_switch, context_tracking, syscall_trace, deferred_work/,
    );
  });

  it("no IPI to isolated CPUs in user space; every kernel entry of theirs pays a full flush", () => {
    const { report, kernel } = simulate(scenario([CHURN, { type: "syscall", cpus: "5", every: 10 * MS, call: "getpid" }], 1100 * MS, 100 * MS, PTI), {
      mechanisms: [tlbDefer({ variant: "cr3-switch" })],
    });
    for (const cpu of ISOLATED) expect(tlbIpis(report, cpu)).toBe(0);
    const s = stats(report);
    expect(s).toMatchObject({ variant: "cr3-switch", flush_step: "cr3_switch", ipis_sent: 0, deferred_flushes: 0 });
    expect(s.ipis_avoided).toBe(7 * report.housekeeping.tlb_flushes);
    // 100 syscalls on CPU 5 (100 ms to 1.09 s; the one due at 1.1 s is outside the half-open run)
    // and the residual ticks: each entry flushes, deferred bit or not.
    const entries = 100 + isolatedTicks(report);
    expect(s.isolated_entries).toBe(entries);
    expect(s.entry_flushes).toBe(entries);
    expect(s.entry_flush_ns_total).toBe(entries * kernel.params.tlbFlushAllNs);
    expect(s.entry_flush_ns_per_entry).toBe(kernel.params.tlbFlushAllNs);
    expect(report.invariants.violations).toEqual([]);
  });
});

describe("flush_step: is the deferred flush done before entry code runs a re-mapped BPF image?", () => {
  /**
   * A BPF program attached at `attach` is re-JIT'd every millisecond on CPU 0 (each image vmalloc'd,
   * the old one vfree'd); each isolated CPU makes a syscall at its own period. After a purge re-maps
   * a freed image's addresses, an isolated CPU that cached the old image comes back from user space
   * and runs the new one before or after its deferred flush, as flush_step says.
   */
  function staleUses(mechanisms: Mechanism[], attach: BpfAttach, params: Record<string, unknown> = {}): { stale: number[]; purges: number } {
    const periods = [1.1, 1.3, 1.5, 1.7, 1.9, 2.1, 2.3];
    const spec = scenario(
      periods.map((p, i): WorkloadSpec => ({ type: "syscall", cpus: String(i + 1), every: p * MS, call: "getpid" })),
      200 * MS,
      100 * MS,
      params,
    );
    const k = buildKernel(spec, { mechanisms });
    attachEntryBpfProg(k, { attach, cpu: 0, every: MS, pages: 1023 });
    k.engine.runUntil(spec.duration);
    k.finish();
    const v = buildReport(k, spec).invariants.violations;
    expect(v.every((x) => x.invariant === "tlb-no-stale")).toBe(true);
    return { stale: v.map((x) => x.cpu), purges: k.vmalloc.purges };
  }

  it("4.9, a kprobe on do_syscall_64(): the default (context tracking, the first C step) is too late; only a flush in the asm is early enough", () => {
    for (const step of [undefined, "syscall_trace", "deferred_work"] as const) {
      const { stale, purges } = staleUses([tlbDefer(step ? { flushStep: step } : {})], "kprobe");
      expect(purges).toBe(6);
      expect(stale.length).toBeGreaterThanOrEqual(5);
      expect(stale.every((cpu) => ISOLATED.includes(cpu))).toBe(true);
    }
    for (const step of ["register_save", "stack_switch"] as const) expect(staleUses([tlbDefer({ flushStep: step })], "kprobe").stale).toEqual([]);
    expect(staleUses([], "kprobe").stale).toEqual([]);
  });

  it("4.9, the sys_enter tracepoint: the default (context tracking) flushes before it runs; a flush after it does not", () => {
    expect(staleUses([tlbDefer()], "sys_enter").stale).toEqual([]);
    const { stale } = staleUses([tlbDefer({ flushStep: "deferred_work" })], "sys_enter");
    expect(stale.length).toBeGreaterThanOrEqual(5);
  });

  it("with PTI the default, cr3_switch, flushes first and reports none for either attach point; so do IPIs and the cr3-switch variant", () => {
    for (const attach of ["kprobe", "sys_enter"] as const) {
      expect(staleUses([tlbDefer()], attach, PTI).stale).toEqual([]);
      expect(staleUses([], attach, PTI).stale).toEqual([]);
      expect(staleUses([tlbDefer({ variant: "cr3-switch" })], attach, PTI).stale).toEqual([]);
    }
    expect(staleUses([tlbDefer({ flushStep: "context_tracking" })], "kprobe", PTI).stale.length).toBeGreaterThanOrEqual(5);
  });

  it("with only the vmap'd stack touched at entry, even a flush at deferred_work finds nothing stale", () => {
    const { report } = simulate(scenario([CHURN, { type: "syscall", cpus: "1-7", every: 1.3 * MS, call: "getpid" }], 200 * MS), {
      mechanisms: [tlbDefer({ flushStep: "deferred_work" })],
    });
    expect(stats(report).deferred_flushes).toBeGreaterThan(0);
    expect(report.invariants.violations).toEqual([]);
  });
});

describe("tlb-defer-only-user", () => {
  it("reports a flush deferred for a CPU in the kernel (a deliberately broken mechanism), in both variants", () => {
    const loop: WorkloadSpec = { type: "kernel-loop", cpus: "3", every: 10 * MS, run: 9 * MS };
    for (const variant of ["ct-work", "cr3-switch"] as const) {
      const { report } = simulate(scenario([CHURN, loop], 300 * MS, 0, variant === "cr3-switch" ? PTI : {}), { mechanisms: [tlbDefer({ variant, faults: { deferInKernel: true } })] });
      expect(tlbIpis(report, 3)).toBe(0);
      const v = report.invariants.violations.filter((x) => x.invariant === "tlb-defer-only-user");
      expect(v.length).toBeGreaterThan(0);
      expect(v.every((x) => x.cpu === 3)).toBe(true);
      expect(v[0]!.detail).toMatch(/deferred for CPU 3 .* while it executes kernel/);
    }
  });
});

describe("vfree_rcu: vfree()d areas come back through an RCU grace period, flushed at its end", () => {
  it("flushes at every grace period with frees, holds back less vmalloc space than the lazy purge, and still sends no IPI", () => {
    const lazy = stats(simulate(scenario([CHURN], 300 * MS), { mechanisms: [tlbDefer()] }).report);
    const { report } = simulate(scenario([CHURN], 300 * MS), { mechanisms: [tlbDefer({ vfreeRcu: true })] });
    const s = stats(report);
    expect(s.vfree_rcu).toBe(true);
    expect(s.vfrees).toBe(lazy.vfrees);
    expect(s.rcu_callbacks).toBeGreaterThan(0);
    expect(s.rcu_callbacks).toBeLessThanOrEqual(s.vfrees as number);
    expect(s.gp_wait_ns_max).toBeGreaterThan(0);
    // Batched per grace period rather than per lazy_max_pages(): many more flushes, much less held back.
    expect(s.flushes as number).toBeGreaterThan(5 * (lazy.flushes as number));
    expect(s.flush_rate_per_s as number).toBeGreaterThan(5 * (lazy.flush_rate_per_s as number));
    expect(s.held_pages_max as number).toBeLessThan(lazy.held_pages_max as number);
    expect(s.held_pages_mean as number).toBeLessThan(lazy.held_pages_mean as number);
    expect(s.held_bytes_max).toBe((s.held_pages_max as number) * 4096);
    expect(lazy.rcu_callbacks).toBe(0);
    for (const cpu of ISOLATED) expect(tlbIpis(report, cpu)).toBe(0);
    expect(report.invariants.checked).toContain("rcu-callbacks-invoked");
    expect(report.invariants.violations).toEqual([]);
  });
});

describe("options", () => {
  it("rejects an unknown flush_step, a non-boolean vfree_rcu and an unknown variant, naming what is valid", () => {
    expect(() => tlbDefer({ flushStep: "syscall" as KernelEntryStep })).toThrow(InputError);
    expect(() => tlbDeferFromFile({ flush_step: "syscall" })).toThrow(
      /flush_step: "syscall" is not valid \(valid: register_save, cr3_switch, stack_switch, context_tracking, syscall_trace, deferred_work\)/,
    );
    expect(() => tlbDeferFromFile({ vfree_rcu: "yes" })).toThrow(/vfree_rcu: "yes" is not valid \(valid: true, false\)/);
    expect(() => tlbDeferFromFile({ variant: "ipi" })).toThrow(/"ipi" is not valid \(valid: ct-work, cr3-switch\)/);
    for (const v of ["false", 0, null]) expect(() => tlbDefer({ vfreeRcu: v as unknown as boolean })).toThrow(`tlb-defer.options.vfreeRcu: ${JSON.stringify(v)} is not valid (valid: true, false)`);
    expect(() => tlbDefer({ colour: 1 } as never)).toThrow("tlb-defer.options.colour: unknown option of tlb-defer (valid: flushStep, vfreeRcu)");
    expect(tlbDefer().options).toBe(tlbDeferOptionLimits);
  });

  it("takes scenario-file options in snake_case", () => {
    const m = tlbDeferFromFile({ variant: "cr3-switch", flush_step: "register_save", vfree_rcu: true });
    expect(m).toMatchObject({ name: "tlb-defer", variant: "cr3-switch", variants: ["ct-work", "cr3-switch"] });
    const { report } = simulate(scenario([], 10 * MS, 0, PTI), { mechanisms: [m] });
    expect(stats(report)).toMatchObject({ variant: "cr3-switch", flush_step: "register_save", vfree_rcu: true });
  });
});

describe("tlb-defer cr3-switch as RFC v7/v8: text-patching sync IPIs deferred too", () => {
  /** A tracing agent attaching a BPF program at sys_enter: its first attach patches kernel text (text_poke_bp(), three sync rounds). */
  const BPF: WorkloadSpec = { type: "bpf", cpus: "1-7", attach: "sys_enter", every: 20 * MS, pages: 1 };
  const callIpis = (r: Report): number[] => ISOLATED.map((cpu) => r.cpus[cpu]!.interruptions.ipi_call_function);

  it("isolated CPUs in user space get no do_sync_core IPI; without the mechanism each gets one per sync round", () => {
    const base = simulate(scenario([BPF], 50 * MS, 0, PTI)).report;
    expect(callIpis(base)).toEqual(ISOLATED.map(() => 3));
    const { report } = simulate(scenario([BPF], 50 * MS, 0, PTI), { mechanisms: [tlbDefer({ variant: "cr3-switch" })] });
    expect(callIpis(report)).toEqual(ISOLATED.map(() => 0));
    expect(stats(report).text_poke_syncs_avoided).toBe(3 * ISOLATED.length);
    expect(report.invariants.violations).toEqual([]);
    // ct-work (v3 as modelled) defers TLB flushes only: the sync IPIs still arrive.
    const ct = simulate(scenario([BPF], 50 * MS, 0, PTI), { mechanisms: [tlbDefer()] }).report;
    expect(callIpis(ct)).toEqual(ISOLATED.map(() => 3));
  });

  it("a CPU in the kernel when the text is patched still gets the sync IPI", () => {
    const loop: WorkloadSpec = { type: "kernel-loop", cpus: "3", every: 10 * MS, run: 9 * MS };
    const { report } = simulate(scenario([BPF, loop], 50 * MS, 0, PTI), { mechanisms: [tlbDefer({ variant: "cr3-switch" })] });
    const ipis = callIpis(report);
    expect(ipis[2]).toBe(3);
    expect(ipis.filter((n, i) => i !== 2)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(report.invariants.violations).toEqual([]);
  });

  it("pti=on on kernel.cmdline is what the variant needs; pti=off makes it a composition error", () => {
    const onCmdline = (cmdline: string): ScenarioSpec => ({ ...scenario([BPF], 50 * MS, 0), kernel: { preset: "linux-4.9", cpus: 8, hz: 1000, cmdline } });
    const { report } = simulate(onCmdline("nohz_full=1-7 pti=on"), { mechanisms: [tlbDefer({ variant: "cr3-switch" })] });
    expect(callIpis(report)).toEqual(ISOLATED.map(() => 0));
    expect(() => simulate(onCmdline("nohz_full=1-7 pti=off"), { mechanisms: [tlbDefer({ variant: "cr3-switch" })] })).toThrow(CompositionError);
  });
});
