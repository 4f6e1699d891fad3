import { describe, expect, it } from "vitest";
import { buildKernel, buildReport, simulate } from "@isolsim/core";
import type { Mechanism, NocbLayout, ScenarioSpec } from "@isolsim/core";
import { observeNocb, rcuNocbMerge, rcuNocbMergeOptionLimits } from "./index.js";
import type { NocbFigures } from "./index.js";

const MS = 1_000_000;
const KiB = 1024;

/** Busy user tasks on `iso`; the ones in `callers` call call_rcu() every `every` ns. */
function scenario(cpus: number, iso: string, callers: string, duration: number, every = 20 * MS): ScenarioSpec {
  return {
    name: "rcu-nocb-merge",
    seed: 1,
    duration,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus, hz: 1000, nohzFull: iso },
    workload: [
      { type: "user-loop", cpus: iso },
      { type: "syscall", cpus: callers, call: "call-rcu", every },
    ],
  };
}

/** Runs `spec` with `mechanisms`, measuring with the same observer whether or not rcu-nocb-merge is there. */
function run(spec: ScenarioSpec, mechanisms: Mechanism[] = []) {
  const kernel = buildKernel(spec, { mechanisms });
  const figures = observeNocb(kernel);
  kernel.engine.runUntil(spec.duration);
  kernel.finish();
  const report = buildReport(kernel, spec);
  const stats = report.mechanism_stats["rcu-nocb-merge"] as (NocbFigures & { variant: string }) | undefined;
  if (stats) expect({ ...figures(), variant: stats.variant }).toEqual(stats);
  return { kernel, report, fig: figures() };
}

/** The three layouts on one scenario: 4.9 baseline, merged, gp-groups. */
function compare(spec: ScenarioSpec) {
  const runs = { base: run(spec), merged: run(spec, [rcuNocbMerge()]), groups: run(spec, [rcuNocbMerge({ variant: "gp-groups" })]) };
  for (const r of Object.values(runs)) {
    expect(r.report.invariants.violations).toEqual([]);
    expect(r.report.invariants.checked).toEqual(expect.arrayContaining(["rcu-gp-progress", "rcu-callbacks-invoked"]));
    expect(r.fig.cb_kthread_runs_on_isolated).toBe(0);
    expect(r.kernel.rcu.stats.callbacksQueued).toBeGreaterThan(0);
    expect(r.kernel.rcu.stats.callbacksInvoked).toBe(r.kernel.rcu.stats.callbacksQueued);
    expect(r.kernel.rcu.nocb.pending()).toBe(0);
    for (const c of r.report.cpus) if (c.isolated) expect(c.interruptions.rcu + c.interruptions.kthread + c.interruptions.ipi_resched).toBe(0);
  }
  return runs;
}

describe("rcu-nocb-merge: one callback kthread per offloaded CPU", () => {
  it("8 CPUs, nohz_full=1-7: 21 rcuo kthreads (rcuop, rcuos, rcuob per CPU) become 7 rcuop/N, or 7 rcuop/N + 2 rcuog/N", () => {
    const { base, merged, groups } = compare(scenario(8, "1-7", "1-7", 1000 * MS, 100 * MS));
    expect([base.report.kthreads.rcu_callback, merged.report.kthreads.rcu_callback, groups.report.kthreads.rcu_callback]).toEqual([21, 7, 7]);
    // rcu_gp: the 3 flavour GP kthreads, plus rcuog/1 (CPUs 1-3) and rcuog/4 (4-7) with stride 8 / int_sqrt(8) = 4.
    expect([base.report.kthreads.rcu_gp, merged.report.kthreads.rcu_gp, groups.report.kthreads.rcu_gp]).toEqual([3, 3, 5]);
    expect(merged.kernel.rcu.nocb.kthreads.map((kt) => kt.spec.name)).toEqual(["rcuop/1", "rcuop/2", "rcuop/3", "rcuop/4", "rcuop/5", "rcuop/6", "rcuop/7"]);
    expect(groups.kernel.rcu.nocb.kthreads.filter((kt) => kt.task.role === "rcu_gp").map((kt) => kt.spec.name)).toEqual(["rcuog/1", "rcuog/4"]);
    expect([base.fig.nocb_kthread_stack_bytes, merged.fig.nocb_kthread_stack_bytes, groups.fig.nocb_kthread_stack_bytes]).toEqual([21 * 16 * KiB, 7 * 16 * KiB, 9 * 16 * KiB]);
    // Each merged rcuop/N invokes what rcuop/N, rcuos/N and rcuob/N did: the call_rcu() callbacks of CPU N.
    for (const kt of merged.kernel.rcu.nocb.kthreads) expect(kt.invoked).toBe(9);
    expect(merged.report.mechanism_stats["rcu-nocb-merge"]).toMatchObject({ variant: "merged", nocb_kthreads: 7, callbacks_invoked: 63 });
    expect(merged.report.kernel.mechanisms).toEqual([{ name: "rcu-nocb-merge", variant: "merged" }]);
  });

  it("merged keeps 4.9's leader/follower wakeups: call_rcu() feeds rcu_preempt only, so wakeups and latencies equal the baseline's", () => {
    const { base, merged } = compare(scenario(64, "4-63", "4-63", 300 * MS));
    expect(merged.fig.nocb_kthread_wakeups).toBe(base.fig.nocb_kthread_wakeups);
    expect(merged.fig.nocb_context_switches).toBe(base.fig.nocb_context_switches);
    expect(merged.fig.callback_latency_mean_ns).toBe(base.fig.callback_latency_mean_ns);
    expect(merged.fig.gp_latency_mean_ns).toBe(base.fig.gp_latency_mean_ns);
    // The rcuos/N and rcuob/N threads existed and never ran: only memory is saved here.
    expect(base.kernel.rcu.nocb.kthreads.filter((kt) => !kt.spec.name.startsWith("rcuop/") && kt.task.wakeups > 0)).toEqual([]);
    expect(base.fig.nocb_kthread_stack_bytes - merged.fig.nocb_kthread_stack_bytes).toBe(120 * 16 * KiB);
  });

  it("gp-groups: rcuog/N never invokes callbacks, so each group's first CPU costs one more wakeup per grace period", () => {
    const { merged, groups } = compare(scenario(64, "4-63", "4-63", 300 * MS));
    // stride 64 / int_sqrt(64) = 8: rcuog/4 (CPUs 4-7), rcuog/8, ..., rcuog/56.
    expect(groups.fig.rcu_gp_kthreads).toBe(8);
    expect(groups.fig.grace_periods).toBe(merged.fig.grace_periods);
    expect(groups.fig.nocb_kthread_wakeups - merged.fig.nocb_kthread_wakeups).toBe(groups.fig.rcu_gp_kthreads * groups.fig.grace_periods);
    expect(groups.fig.housekeeping_context_switches).toBeGreaterThan(merged.fig.housekeeping_context_switches);
    expect(groups.fig.callback_latency_mean_ns).toBeGreaterThanOrEqual(merged.fig.callback_latency_mean_ns);
    const rcuop4 = groups.kernel.rcu.nocb.kthreads.find((kt) => kt.spec.name === "rcuop/4")!;
    expect(rcuop4.invoked).toBeGreaterThan(0);
  });

  it("1024 CPUs, nohz_full=4-1023: 3060 callback kthreads become 1020, or 1020 + 32 rcuog; 47.8 MiB of stacks become 15.9 MiB", () => {
    const { base, merged, groups } = compare(scenario(1024, "4-1023", "4-1023:1/32", 60 * MS));
    expect([base.fig.rcu_callback_kthreads, merged.fig.rcu_callback_kthreads, groups.fig.rcu_callback_kthreads]).toEqual([3060, 1020, 1020]);
    expect(groups.fig.rcu_gp_kthreads).toBe(32);
    expect(base.report.kthreads.total - merged.report.kthreads.total).toBe(2040);
    expect([base.fig.nocb_kthread_stack_bytes, merged.fig.nocb_kthread_stack_bytes]).toEqual([3060 * 16 * KiB, 1020 * 16 * KiB]);
    expect(merged.fig.callbacks_invoked).toBe(base.fig.callbacks_invoked);
    expect(merged.fig.callbacks_invoked).toBeGreaterThan(0);
  });

  it("4096 CPUs, nohz_full=4-4095: 12276 callback kthreads become 4092, or 4092 + 64 rcuog", () => {
    const { base, merged, groups } = compare(scenario(4096, "4-4095", "4-4095:1/128", 75 * MS, 40 * MS));
    expect([base.fig.rcu_callback_kthreads, merged.fig.rcu_callback_kthreads, groups.fig.rcu_callback_kthreads]).toEqual([12276, 4092, 4092]);
    expect(groups.fig.rcu_gp_kthreads).toBe(64);
    expect(base.fig.nocb_kthread_stack_bytes / merged.fig.nocb_kthread_stack_bytes).toBe(3);
    expect(merged.fig.grace_periods).toBeGreaterThan(0);
  });

  it("offloads rcu_nocbs ⊇ nohz_full: rcu_nocbs=1-7 with nohz_full=2-7 gives 7 merged kthreads", () => {
    const spec = scenario(8, "2-7", "2-7", 300 * MS);
    delete spec.kernel.nohzFull;
    spec.kernel.cmdline = "nohz_full=2-7 rcu_nocbs=1-7";
    const { report, fig } = run(spec, [rcuNocbMerge()]);
    expect(fig.rcu_callback_kthreads).toBe(7);
    expect(report.kthreads.rcu_callback).toBe(7);
    expect(report.invariants.violations).toEqual([]);
  });

  it("without CONFIG_PREEMPT_RCU the merged kthreads are rcuos/N (rcu_state.abbr)", () => {
    const spec = scenario(8, "1-7", "1-7", 300 * MS);
    spec.kernel.params = { preempt_rcu: false };
    const { kernel, report } = run(spec, [rcuNocbMerge()]);
    expect(kernel.rcu.nocb.kthreads.map((kt) => kt.spec.name)[0]).toBe("rcuos/1");
    expect(report.kthreads.rcu_callback).toBe(7);
    expect(report.invariants.violations).toEqual([]);
  });

  it("gp-groups options: rcu_nocb_gp_stride, and 6.1's kthreads for every CPU (rcuog named after the block's first CPU)", () => {
    const spec = scenario(64, "4-63", "4-63:1/8", 100 * MS);
    expect(run(spec, [rcuNocbMerge({ variant: "gp-groups", gpStride: 16 })]).fig.rcu_gp_kthreads).toBe(4);
    const all = run(spec, [rcuNocbMerge({ variant: "gp-groups", allCpus: true })]);
    expect(all.fig.rcu_callback_kthreads).toBe(64);
    expect(all.kernel.rcu.nocb.kthreads.filter((kt) => kt.task.role === "rcu_gp").map((kt) => kt.spec.name).slice(0, 2)).toEqual(["rcuog/0", "rcuog/8"]);
    expect(all.kernel.rcu.nocb.kthreads.find((kt) => kt.spec.name === "rcuop/0")!.task.wakeups).toBe(0);
    expect(all.report.invariants.violations).toEqual([]);
  });

  it("rejects options that do not apply", () => {
    expect(() => rcuNocbMerge({ variant: "gp-groups", gpStride: 0 })).toThrow(/options.gpStride: 0 is not valid/);
    expect(() => rcuNocbMerge({ gpStride: 8 })).toThrow(/applies only to variant "gp-groups"/);
    expect(() => simulate(scenario(8, "1-7", "1-7", 10 * MS), { mechanisms: [rcuNocbMerge({ variant: "bogus" as "merged" })] })).toThrow(/unknown variant "bogus" of rcu-nocb-merge \(valid: merged, gp-groups\)/);
  });
});

describe("rcu-nocb-merge: a broken layout is caught", () => {
  /** Wraps the layout rcu-nocb-merge installed (the layout is read at boot, after every install()). */
  const breakLayout = (name: string, f: (inner: NocbLayout) => NocbLayout): Mechanism => ({
    name,
    description: `test: ${name}`,
    install(k) {
      k.rcu.nocbLayout = f(k.rcu.nocbLayout);
    },
  });

  it("cb_kthread_runs_on_isolated counts rcuo kthreads bound to the CPU they serve (isolated), and the CPU is interrupted", () => {
    const onOwnCpu = breakLayout("own-cpu", (inner) => (k, f, cpus) => inner(k, f, cpus).map((s) => ({ ...s, cpu: s.cb[0]?.cpu ?? s.cpu })));
    const spec = scenario(8, "1-7", "1-7", 500 * MS, 100 * MS);
    const { fig, report } = run(spec, [rcuNocbMerge(), onOwnCpu]);
    expect(fig.cb_kthread_runs_on_isolated).toBeGreaterThan(0);
    // rcuop/3 now runs __rcu_reclaim() on CPU 3, preempting its user task.
    expect(report.cpus[3]!.interruptions.rcu).toBeGreaterThan(0);
    expect(report.cpus[3]!.noise_ns).toBeGreaterThan(0);
    const good = run(spec, [rcuNocbMerge()]);
    expect(good.fig.cb_kthread_runs_on_isolated).toBe(0);
  });

  it("rcuo kthreads bound to the isolated CPU are an effect failure under CFS; under a SCHED_FIFO task they starve and rcu-callbacks-invoked reports it", () => {
    const onOwnCpu = breakLayout("own-cpu", (inner) => (k, f, cpus) => inner(k, f, cpus).map((s) => ({ ...s, cpu: s.cb[0]?.cpu ?? s.cpu })));
    const cfs = scenario(8, "1-7", "1-7", 3_000 * MS, 100 * MS);
    // CFS: the callbacks run (late, and as noise on the isolated CPU): no safety invariant is broken.
    expect(run(cfs, [rcuNocbMerge(), onOwnCpu]).report.invariants.violations).toEqual([]);
    const fifo: ScenarioSpec = { ...cfs, workload: [{ type: "user-loop", cpus: "1-7", policy: "fifo", priority: 50 }, cfs.workload[1]!] };
    expect(run(fifo, [rcuNocbMerge()]).report.invariants.violations).toEqual([]);
    const { report } = run(fifo, [rcuNocbMerge(), onOwnCpu]);
    const v = report.invariants.violations.filter((x) => x.invariant === "rcu-callbacks-invoked");
    expect(v.length).toBeGreaterThan(0);
    expect(v[0]!.cpu).toBeGreaterThanOrEqual(1);
    // The starved leader never asks for their grace period (rcu_nocb_wait_gp()): the end-of-run rule catches them.
    expect(v[0]!.time_ns).toBe(3_000 * MS);
    expect(v[0]!.detail).toMatch(/not invoked by the end of the run, \d+ ns after call_rcu\(\)/);
  });

  it("a layout that drops rcu_bh's queues is refused at boot", () => {
    const noBh = breakLayout("no-bh", (inner) => (k, f, cpus) => inner(k, f, cpus).map((s) => ({ ...s, cb: s.cb.filter((r) => f[r.flavour]!.name !== "rcu_bh") })));
    expect(() => buildKernel(scenario(8, "1-7", "1-7", 10 * MS), { mechanisms: [rcuNocbMerge(), noBh] })).toThrow(/\(rcu_bh\) has no callback-invoking kthread/);
  });
});

describe("rcu-nocb-merge options are typed", () => {
  it("takes all_cpus only as a boolean: \"yes\", \"false\", 1 and null are errors, not switches", () => {
    for (const v of ["yes", "false", 1, null]) {
      expect(() => rcuNocbMerge({ variant: "gp-groups", allCpus: v as unknown as boolean })).toThrow(`rcu-nocb-merge.options.allCpus: ${JSON.stringify(v)} is not valid (valid: true, false)`);
    }
    expect(rcuNocbMerge({ variant: "gp-groups", allCpus: false }).variant).toBe("gp-groups");
  });

  it("bounds gp_stride by the largest machine and rejects unknown options, naming the valid ones", () => {
    expect(() => rcuNocbMerge({ variant: "gp-groups", gpStride: 1e30 })).toThrow("rcu-nocb-merge.options.gpStride: 1e+30 is not valid (valid: an integer 1-8192)");
    expect(() => rcuNocbMerge({ colour: 1 } as never)).toThrow("rcu-nocb-merge.options.colour: unknown option of rcu-nocb-merge (valid: gpStride, allCpus)");
    expect(rcuNocbMerge().options).toBe(rcuNocbMergeOptionLimits);
  });
});

describe("gp-groups with rcu_lazy (CONFIG_RCU_LAZY, v6.2): rare call_rcu() no longer wakes rcuog each time", () => {
  it("one call_rcu() a second on CPU 3 for 25 s: rcuog/rcuop wakeups and grace periods fall to the two lazy flushes, callbacks still run", () => {
    const spec = (lazy: boolean): ScenarioSpec => ({
      ...scenario(4, "1-3", "3", 25_000 * MS, 1000 * MS),
      kernel: { preset: "linux-4.9", cpus: 4, hz: 250, nohzFull: "1-3", params: { rcu_lazy: lazy } },
    });
    const groups = () => [rcuNocbMerge({ variant: "gp-groups", allCpus: true })];
    const eager = run(spec(false), groups());
    const lazy = run(spec(true), groups());
    expect(eager.fig.grace_periods).toBe(24);
    expect(lazy.fig.grace_periods).toBe(2);
    expect(eager.fig.nocb_kthread_wakeups).toBe(72);
    expect(lazy.fig.nocb_kthread_wakeups).toBe(6);
    expect(lazy.fig.callbacks_invoked).toBe(22);
    // the lazy window: callbacks wait up to jiffies_lazy_flush (10 s) for their grace period
    expect(lazy.fig.callback_latency_max_ns).toBeGreaterThan(10_000 * MS);
    expect(lazy.report.cpus[0]!.interruptions.rcu).toBe(4);
    expect(eager.report.cpus[0]!.interruptions.rcu).toBe(48);
    expect(lazy.report.invariants.violations).toEqual([]);
  });
});
