import { describe, expect, it } from "vitest";
import { presets, simulate } from "@isolsim/core";
import type { CpuReport, Nanoseconds, Report, ScenarioSpec, Segment, TraceSink, WorkloadSpec } from "@isolsim/core";
import { registry } from "./registry.js";

/**
 * Issue 19 items 1-4 and 7 under the `linux-6.1` preset (beside linux-4.9 where the issue contrasts
 * them): here rather than beside the preset in core, because the preset's built-in mechanisms
 * (remote-stats, rcu-nocb-merge, oneshot-stopped) are packages that depend on core, and only this
 * package knows them all (registry.ts). Every count is what the model delivered.
 * The machine of the issue: 4 CPUs, HZ 250, `nohz_full=1-3 rcu_nocbs=1-3`, one busy CFS task per isolated CPU.
 */
const S = 1_000_000_000;
const MS = 1_000_000;

function scenario(preset: string, extra: WorkloadSpec[], durationNs: Nanoseconds = 20 * S, warmupNs: Nanoseconds = 1 * S, userLoop: WorkloadSpec = { type: "user-loop", cpus: "1-3" }): ScenarioSpec {
  return {
    name: "presets-modern",
    seed: 1,
    duration: durationNs,
    warmup: warmupNs,
    kernel: { preset, cpus: 4, hz: 250, cmdline: "nohz_full=1-3 rcu_nocbs=1-3" },
    workload: [userLoop, ...extra],
  };
}

/** A trace sink counting the kworker work functions each CPU ran after `fromNs`. */
class WorkCounter implements TraceSink {
  readonly counts = new Map<string, number>();
  constructor(private readonly fromNs: Nanoseconds) {}
  slice(): void {}
  segment(cpu: number, seg: Segment): void {
    if (seg.startedAt < this.fromNs) return;
    const key = `${cpu}:${seg.name}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  instant(): void {}
  flow(): void {}
  get(cpu: number, name: string): number {
    return this.counts.get(`${cpu}:${name}`) ?? 0;
  }
}

const run = (spec: ScenarioSpec, trace?: TraceSink): Report => simulate(spec, trace ? { registry, trace } : { registry }).report;
const total = (c: CpuReport): number => Object.values(c.interruptions).reduce((a, b) => a + b, 0);
const WRITE: WorkloadSpec = { type: "syscall", cpus: "3", call: "file-write", pages: 8, every: 3 * S };
const DRAIN: WorkloadSpec = { type: "lru-drain-all", cpus: "0", every: 500 * MS };

describe("linux-6.1 preset (issue 19)", () => {
  it("item 1: isolated CPUs receive nothing at all over 20 s; the timekeeping CPU 0 ticks at HZ", () => {
    const r = run(scenario("linux-6.1", []));
    expect(r.kernel.preset).toBe("linux-6.1");
    for (const cpu of [1, 2, 3]) {
      expect(total(r.cpus[cpu]!)).toBe(0);
      expect(r.cpus[cpu]!.noise_ns).toBe(0);
    }
    // 19 s measured at HZ 250.
    expect(r.cpus[0]!.interruptions.tick).toBe(19 * 250);
    expect(r.invariants.violations).toEqual([]);
  });

  it("item 2: a 32 KiB file write every 3 s on CPU 3 costs CPU 3 nothing once its vmstat_update is pending; linux-4.9 runs kworker_vmstat at the residual tick", () => {
    // Warmup 4 s: the first write (t = 3 s) finds no vmstat_update armed (quiet_vmstat() folded at
    // the tick stop), so the shepherd queues it once; it re-arms itself deferrable and stays pending.
    const r61 = run(scenario("linux-6.1", [WRITE], 20 * S, 4 * S));
    expect(total(r61.cpus[3]!)).toBe(0);
    expect(r61.cpus[3]!.tick.restarts).toBe(0);
    const r49 = run(scenario("linux-4.9", [WRITE], 20 * S, 4 * S));
    expect(r49.cpus[3]!.interruptions.kworker_vmstat).toBeGreaterThanOrEqual(5);
    expect(r49.cpus[3]!.tick.kept_by.MAX_DEFERMENT).toBeGreaterThan(0);
    expect(r61.invariants.violations).toEqual([]);
  });

  it("item 3: with lru_add_drain_all() every 500 ms, each write costs CPU 3 the §5 cascade (with 6.1's expired vmstat_update), then the tick stops; CPUs 1-2 get nothing", () => {
    const from = 4 * S;
    const trace = new WorkCounter(from);
    const r = run(scenario("linux-6.1", [WRITE, DRAIN], 20 * S, from), trace);
    const writes = 5; // at 6, 9, 12, 15 and 18 s
    const c3 = r.cpus[3]!;
    expect(c3.interruptions.ipi_resched).toBe(writes);
    expect(c3.interruptions.kworker_lru_drain).toBe(writes);
    expect(c3.interruptions.kworker_vmstat).toBe(writes);
    expect(trace.get(3, "lru_add_drain_per_cpu")).toBe(writes);
    expect(trace.get(3, "wq_barrier_func")).toBe(writes);
    expect(trace.get(3, "vmstat_update")).toBe(writes);
    // The kick of the SCHED dependency, and the tick it restarted, stopped again each time.
    expect(c3.tick.kept_by.SCHED).toBeGreaterThanOrEqual(writes);
    expect(c3.tick.restarts).toBe(c3.tick.stops);
    expect(c3.tick.stopped_pct).toBeGreaterThan(99.5);
    for (const cpu of [1, 2]) expect(total(r.cpus[cpu]!)).toBe(0);
    expect(r.invariants.violations).toEqual([]);
  });

  it("item 4: two busy tasks on one isolated CPU: the tick runs at HZ, every tick kept by SCHED", () => {
    const r = run(scenario("linux-6.1", [], 2 * S, 1 * S, { type: "user-loop", cpus: "1-3", tasks: 2 }));
    for (const cpu of [1, 2, 3]) {
      const c = r.cpus[cpu]!;
      expect(c.interruptions.tick).toBe(250);
      expect(c.tick.stops).toBe(0);
      expect(c.tick.kept_by.SCHED).toBe(250);
    }
  });

  it("item 7: one RCU GP kthread, rcuop/N for every CPU and rcuog per int_sqrt(nr_cpu_ids) group, all on housekeeping", () => {
    const r = run(scenario("linux-6.1", [], 1 * S, 0));
    // rcu_preempt + rcuog/0 and rcuog/2 (stride 4 / int_sqrt(4) = 2); rcuop/0..3.
    expect(r.kthreads.rcu_gp).toBe(3);
    expect(r.kthreads.rcu_callback).toBe(4);
    expect(r.mechanism_stats["rcu-nocb-merge"]).toMatchObject({ variant: "gp-groups", rcu_gp_kthreads: 2, rcu_callback_kthreads: 4, cb_kthread_runs_on_isolated: 0 });
    const r49 = run(scenario("linux-4.9", [], 1 * S, 0));
    // rcu_preempt, rcu_sched, rcu_bh GP kthreads; rcuop, rcuos, rcuob per offloaded CPU.
    expect(r49.kthreads.rcu_gp).toBe(3);
    expect(r49.kthreads.rcu_callback).toBe(9);
  });

  it("linux-6.12: the same drain cascade without the vmstat_update (the shepherd skips isolated CPUs); every preset is listed", () => {
    const r = run(scenario("linux-6.12", [WRITE, DRAIN], 20 * S, 4 * S));
    const c3 = r.cpus[3]!;
    expect(c3.interruptions.kworker_lru_drain).toBe(5);
    expect(c3.interruptions.kworker_vmstat).toBe(0);
    expect(c3.tick.restarts).toBe(c3.tick.stops);
    expect(r.invariants.violations).toEqual([]);
    expect(Object.keys(presets)).toEqual(["linux-4.9", "linux-6.1", "linux-6.12", "linux-6.12-rt"]);
  });

  it("linux-6.1: a 300 ms kernel loop under call_rcu() load gets TICK_DEP_BIT_RCU briefly (the forced tick reports the QS), no invariant violated", () => {
    const r = run(scenario("linux-6.1", [{ type: "syscall", cpus: "1", call: "call-rcu", every: 100 * MS }, { type: "kernel-loop", cpus: "2", every: S, run: 300 * MS }], 5 * S));
    expect(r.invariants.violations).toEqual([]);
    const c2 = r.cpus[2]!;
    // Loops at 1, 2, 3 and 4 s; each holds one grace period until jiffies_to_sched_qs (100 ms) has it forced.
    expect(c2.tick.kept_by.RCU).toBeGreaterThan(0);
    expect(c2.tick.kept_by.RCU).toBeLessThanOrEqual(3 * 4);
    expect(c2.interruptions.rcu).toBeGreaterThan(0);
  });
});

describe("linux-6.12 and linux-6.12-rt presets (issue 19 items 5-7)", () => {
  const quiet = (preset: string, params: Record<string, unknown> = {}, extra: WorkloadSpec[] = []): Report => {
    const spec = scenario(preset, extra);
    spec.kernel.params = params;
    return run(spec);
  };

  it("item 5: linux-6.12's fair server kicks every busy isolated CPU about once a second (a reschedule IPI, a kick, one tick kept by SCHED), its hrtimer on CPU 0; runtime 0 removes it", () => {
    const r = quiet("linux-6.12");
    // 19 s measured: one kick per server period, the first one inside the warmup.
    for (const c of r.cpus.slice(1)) {
      expect(c.interruptions.ipi_resched).toBe(18);
      expect(c.interruptions.ipi_irq_work).toBe(18);
      expect(c.interruptions.tick).toBe(18);
      expect(c.tick.kept_by.SCHED).toBe(18);
      expect(total(c)).toBe(54);
    }
    expect(r.cpus[0]!.interruptions.hrtimer).toBe(54);
    expect(r.invariants.violations).toEqual([]);
    const off = quiet("linux-6.12", { fair_server_runtime_ns: 0 });
    for (const c of off.cpus.slice(1)) expect(total(c)).toBe(0);
  });

  it("item 5: a CPU whose tick runs anyway (two busy tasks) gets no extra kick; a CPU a wakeup enters each period gets its wakeups' cascade and no kick of the server", () => {
    const two = quiet("linux-6.12", {}, [{ type: "user-loop", cpus: "2" }]);
    expect(two.cpus[2]!.interruptions.ipi_irq_work).toBe(0);
    expect(two.cpus[2]!.interruptions.ipi_resched).toBe(0);
    expect(two.cpus[2]!.tick.kept_by.SCHED).toBe(two.cpus[2]!.interruptions.tick);
    const woken = quiet("linux-6.12", {}, [{ type: "wakeup", cpus: "3", every: 700 * MS, run: 20_000 }]);
    const c3 = woken.cpus[3]!;
    expect(c3.interruptions.kthread).toBe(27);
    expect(c3.interruptions.ipi_resched).toBe(c3.interruptions.kthread);
    expect(c3.interruptions.ipi_irq_work).toBe(c3.interruptions.kthread);
  });

  it("item 6: linux-6.12-rt: a CFS wakeup on an isolated CPU costs no reschedule IPI (lazy preemption: the kick and a tick), a drain still queues work on the isolated CPU", () => {
    const woken = quiet("linux-6.12-rt", {}, [{ type: "wakeup", cpus: "3", every: 700 * MS, run: 20_000 }]);
    const c3 = woken.cpus[3]!;
    expect(c3.interruptions.kthread).toBe(27);
    expect(c3.interruptions.ipi_resched).toBe(0);
    expect(c3.interruptions.ipi_irq_work).toBe(27);
    expect(c3.tick.kept_by.SCHED).toBe(27);
    const drained = quiet("linux-6.12-rt", {}, [WRITE, DRAIN]);
    expect(drained.cpus[3]!.interruptions.kworker_lru_drain).toBeGreaterThan(0);
    expect(drained.invariants.violations).toEqual([]);
  });

  it("item 7: kthreads per preset: rcuop for every CPU and rcuog groups on 6.1; the expedited and tasks-RCU kthreads on 6.12; rcuc/N and rcub on 6.12-rt", () => {
    const k61 = quiet("linux-6.1").kthreads;
    const k612 = quiet("linux-6.12").kthreads;
    const rt = quiet("linux-6.12-rt").kthreads;
    expect([k61.rcu_callback, k61.rcu_gp]).toEqual([4, 3]);
    expect([k612.rcu_callback, k612.rcu_gp]).toEqual([4, 3]);
    // rcu_exp_gp_kthread_worker, rcu_exp_par_gp_kthread_worker/0 and the three rcu_tasks*_kthread.
    expect(k612.other - k61.other).toBe(5);
    // rcuc/0-3 beside rcuop/0-3, and one rcub for the one leaf rcu_node.
    expect([rt.rcu_callback, rt.rcu_gp]).toEqual([8, 4]);
    for (const k of [k61, k612, rt]) expect(k.rcu_callback + k.rcu_gp + k.kworker + k.other).toBe(k.total);
  });
});
