import { describe, expect, it } from "vitest";
import { simulate } from "../simulate.js";
import type { ScenarioSpec, WorkloadSpec } from "../scenario.js";
import type { Kernel } from "../kernel.js";
import type { Mechanism } from "../mechanism.js";

const S = 1_000_000_000;
const MS = 1_000_000;

const spec = (workload: WorkloadSpec[], params: Record<string, unknown> = {}): ScenarioSpec => ({
  name: "rcu-broken",
  seed: 1,
  duration: 2 * S,
  warmup: 0,
  kernel: { preset: "linux-4.9", cpus: 8, hz: 1000, nohzFull: "1-7", params },
  workload: [{ type: "user-loop", cpus: "1-7" }, ...workload],
});

const callRcu: WorkloadSpec = { type: "syscall", cpus: "1-7", call: "call-rcu", every: 100 * MS };
const kernelLoop: WorkloadSpec = { type: "kernel-loop", cpus: "3", at: 500 * MS, every: S, run: 200 * MS };

/** A deliberately broken RCU, installed as a mechanism so the policy is replaced before boot. */
const broken = (name: string, install: (k: Kernel) => void): Mechanism => ({ name, description: `test: ${name}`, install });

const violations = (s: ScenarioSpec, m: Mechanism): string[] => simulate(s, { mechanisms: [m] }).report.invariants.violations.map((v) => v.invariant);

describe("RCU invariants catch a broken subsystem", () => {
  it("rcu-callbacks-invoked: rcu_cbs_completed() answering ->completed invokes callbacks before any grace period", () => {
    const v = violations(spec([callRcu]), broken("early-callbacks", (k) => (k.rcu.cbsCompleted = (rsp) => rsp.completed)));
    expect(v).toContain("rcu-callbacks-invoked");
  });

  it("rcu-callbacks-invoked: an FQS that reports a kernel-looping CPU without a quiescent state ends a bogus grace period", () => {
    const s = spec([kernelLoop, { type: "syscall", cpus: "1", call: "call-rcu", at: 520 * MS, every: S }]);
    expect(simulate(s).report.invariants.violations).toEqual([]);
    const v = violations(s, broken("skip-qs", (k) => (k.rcu.dynticksQs = () => true)));
    expect(v).toContain("rcu-callbacks-invoked");
  });

  it("rcu-callbacks-invoked: a lazy callback is allowed its flush window, but one dropped is still caught after it", () => {
    // rcu_lazy with a 200 ms flush window: the allowance is 2 × (225 ms + 2 jiffies) = 454 ms.
    const s = { ...spec([callRcu], { rcu_lazy: true, rcu_lazy_flush_ns: 200 * MS }), duration: 3 * S };
    expect(simulate(s).report.invariants.violations).toEqual([]);
    const drop = broken("drop-lazy", (k) => {
      const invoke = k.rcu.invokeCallback.bind(k.rcu);
      k.rcu.invokeCallback = (cb) => {
        if (!(cb.lazy && cb.id === 5)) invoke(cb);
      };
    });
    const v = simulate(s, { mechanisms: [drop] }).report.invariants.violations.filter((x) => x.invariant === "rcu-callbacks-invoked");
    expect(v).toHaveLength(1);
    expect(v[0]!.detail).toMatch(/callback 5 .* not invoked \d+ ns past its deadline \(lazy: the later of its grace period's end and 454000000 ns after call_rcu\(\), plus the bound\)/);
  });

  it("rcu-callbacks-invoked: dropping every 10th callback shows in a 3 s run, each lost one counted, the first listed with CPU and time", () => {
    const s = { ...spec([callRcu]), duration: 3 * S };
    expect(simulate(s).report.invariants.violations).toEqual([]);
    const drop = broken("drop-every-10th", (k) => {
      const invoke = k.rcu.invokeCallback.bind(k.rcu);
      k.rcu.invokeCallback = (cb) => {
        if (cb.id % 10 !== 0) invoke(cb);
      };
    });
    const { report, kernel } = simulate(s, { mechanisms: [drop] });
    const v = report.invariants.violations.filter((x) => x.invariant === "rcu-callbacks-invoked");
    // 7 CPUs × a call_rcu() every 100 ms: callbacks 10, 20, ... are dropped; those whose grace period
    // ended before 2 s are reported live, those queued before 2 s at the end; later ones are not due.
    const dropped = Math.floor(kernel.rcu.stats.callbacksQueued / 10);
    expect(kernel.rcu.checker.lostTotal).toBeGreaterThanOrEqual(12);
    expect(kernel.rcu.checker.lostTotal).toBeLessThan(dropped);
    expect(v.length).toBe(11);
    const first = v[0]!;
    expect(first.cpu).toBeGreaterThanOrEqual(1);
    expect(first.detail).toMatch(/^callback 10 queued on CPU \d at \d+ ns .* not invoked \d+ ns after its grace period ended/);
    // Callback 10 is queued in the second round of calls (~200 ms); reported 1 s after its grace period ended.
    expect(first.time_ns).toBeGreaterThan(1_200 * MS);
    expect(first.time_ns).toBeLessThan(1_300 * MS);
    expect(v[10]!.cpu).toBe(-1);
    expect(v[10]!.detail).toBe(`${kernel.rcu.checker.lostTotal} callbacks in total were not invoked in time (the first 10 are listed)`);
  });

  it("rcu-gp-progress: an FQS that ignores the dynticks counter leaves grace periods waiting on user-mode CPUs", () => {
    const r = simulate(spec([callRcu]), { mechanisms: [broken("blind-fqs", (k) => (k.rcu.dynticksQs = () => false))] });
    const v = r.report.invariants.violations.filter((x) => x.invariant === "rcu-gp-progress");
    expect(v.length).toBeGreaterThan(0);
    // The first call_rcu() is at 100 ms; the first GP waits on every busy user-mode CPU 1-7.
    expect(v[0]!.cpu).toBeGreaterThanOrEqual(1);
    expect(v[0]!.time_ns).toBeGreaterThan(100 * MS);
    expect(v[0]!.time_ns).toBeLessThan(200 * MS);
    expect(v[0]!.detail).toMatch(/^rcu_preempt grace period 1 still waits on CPU \d, in user \(EQS\) for \d+ ns$/);
  });

  it("rcu-gp-progress: an EQS holdout's time counts from its real transition (Cpu.ctCounterSince), not from a tick's sample", () => {
    const r = simulate(spec([callRcu]), { mechanisms: [broken("blind-fqs", (k) => (k.rcu.dynticksQs = () => false))] });
    const eqs = r.report.invariants.violations.filter((v) => v.invariant === "rcu-gp-progress" && v.detail.includes("(EQS)"));
    expect(eqs.length).toBeGreaterThan(0);
    for (const v of eqs) {
      const ns = Number(/\(EQS\) for (\d+) ns/.exec(v.detail)![1]);
      // Sampled at a tick (on the 1 ms grid) but counted from a user-mode entry that is not: off the grid.
      expect(ns % MS).not.toBe(0);
      expect(ns).toBeGreaterThan(0);
    }
  });

  it("rcu-forced-tick: without resched_cpu() (4.9) a kernel-looping nohz_full CPU holds the grace period", () => {
    const s = spec([kernelLoop, { type: "syscall", cpus: "1", call: "call-rcu", at: 520 * MS, every: S }]);
    expect(simulate(s).report.invariants.violations).toEqual([]);
    const v = simulate(s, { mechanisms: [broken("no-kick", (k) => (k.rcu.kickCpu = () => {}))] }).report.invariants.violations;
    const forced = v.filter((x) => x.invariant === "rcu-forced-tick");
    // One per kernel loop that holds a grace period: the loops at 500 ms and 1.5 s.
    expect(forced.length).toBe(2);
    // The loop runs on CPU 3 from 500 ms; the GP starts at ~520 ms; the bound is jiffies_till_sched_qs + an FQS interval + slack.
    expect(forced[0]!.cpu).toBe(3);
    expect(forced[0]!.time_ns).toBeGreaterThan(570 * MS);
    expect(forced[0]!.time_ns).toBeLessThan(700 * MS);
    expect(forced[1]!.time_ns - forced[0]!.time_ns).toBe(S);
    expect(forced[0]!.detail).toMatch(/^rcu_preempt grace period 1 has waited \d+ ns on nohz_full CPU 3 looping in the kernel, which was neither rescheduled nor given a resched IPI$/);
  });

  it("rcu-forced-tick: without rcu_urgent_qs (6.1 path) the CPU never sets TICK_DEP_BIT_RCU", () => {
    const s = spec([kernelLoop, { type: "syscall", cpus: "1", call: "call-rcu", at: 520 * MS, every: S }], { tick_dep_rcu: true });
    expect(simulate(s).report.invariants.violations).toEqual([]);
    const v = violations(s, broken("no-urgent", (k) => (k.rcu.kickCpu = () => {})));
    expect(v).toContain("rcu-forced-tick");
  });
});
