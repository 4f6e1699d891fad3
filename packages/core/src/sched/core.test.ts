import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "../simulate.js";
import { buildReport } from "../report.js";
import type { ScenarioSpec, WorkloadSpec } from "../scenario.js";
import { Src } from "../accounting/sources.js";
import { Policy, TaskState } from "./task.js";

const S = 1_000_000_000;
const MS = 1_000_000;

/** The PREEMPT_RT switches of a 6.12-rt kernel, as param overrides on linux-4.9. */
const rt = { preempt_lazy: true, rcu_use_softirq: false, rcu_boost: true };

function scenario(workload: WorkloadSpec[], params: Record<string, unknown> = {}, duration = S): ScenarioSpec {
  return {
    name: "preempt-lazy",
    seed: 1,
    duration,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 250, nohzFull: "1-3", params },
    workload: [{ type: "user-loop", cpus: "1-3" }, ...workload],
  };
}

const wakeups: WorkloadSpec = { type: "wakeup", cpus: "2-3", every: 100 * MS, run: 20_000 };

describe("lazy preemption (params.preemptLazy, PREEMPT_RT / v6.13)", () => {
  it("a CFS wakeup on a busy nohz_full CPU sends no reschedule IPI: the SCHED kick's return to user switches, and the restarted tick fires about once", () => {
    const lazy = simulate(scenario([wakeups], { preempt_lazy: true })).report;
    const eager = simulate(scenario([wakeups])).report;
    for (const cpu of [2, 3]) {
      const l = lazy.cpus[cpu]!.interruptions;
      const e = eager.cpus[cpu]!.interruptions;
      // Wakeups at 100 ms .. 900 ms (the one at 1 s is after the end): each ran the woken kthread.
      expect(l.kthread).toBe(9);
      expect(e.kthread).toBe(9);
      expect(e.ipi_resched).toBe(9);
      expect(l.ipi_resched).toBe(0);
      // The kick (TICK_DEP_BIT_SCHED: two tasks runnable) still comes, once per wakeup.
      expect(l.ipi_irq_work).toBe(9);
      expect(e.ipi_irq_work).toBe(9);
      // The restarted tick: about one per wakeup, and the tick stops again in between.
      expect(l.tick).toBeGreaterThanOrEqual(9);
      expect(l.tick).toBeLessThanOrEqual(18);
      expect(lazy.cpus[cpu]!.tick.kept_by.SCHED).toBeGreaterThanOrEqual(9);
    }
    // CPU 1 sees no wakeups, and nothing changes there.
    expect(lazy.cpus[1]!.interruptions).toEqual(eager.cpus[1]!.interruptions);
    expect(lazy.invariants.violations).toEqual([]);
  });

  it("the switch waits for the CPU's next kernel exit: nothing else runs between the wakeup and the kick", () => {
    const spec = scenario([{ type: "wakeup", cpus: "3", every: 100 * S, at: 500 * MS, run: 20_000 }], { preempt_lazy: true });
    const k = buildKernel(spec);
    k.engine.runUntil(500 * MS - 1);
    const before = Array.from(k.accounting.cpus[3]!.counts);
    expect(k.tick.ts[3]!.stopped).toBe(true);
    const woken = k.sched.tasks.find((t) => t.name === "wakeup/3")!;
    // Step to the wakeup (the hrtimer on CPU 0 fires at 500 ms; its handler wakes the task).
    for (let t = 500 * MS; woken.wakeups === 0 && t < 501 * MS; t += 100) k.engine.runUntil(t);
    // Woken, runnable, not yet running, and no full TIF_NEED_RESCHED: the lazy bit only.
    expect(woken.wakeups).toBe(1);
    expect(woken.state).toBe(TaskState.runnable);
    expect(k.cpus[3]!.curr?.user).toBe(true);
    expect(k.cpus[3]!.needResched).toBe(false);
    k.engine.runUntil(520 * MS);
    const after = Array.from(k.accounting.cpus[3]!.counts);
    const d = (src: number): number => after[src]! - before[src]!;
    expect(d(Src.ipi_resched)).toBe(0);
    expect(d(Src.ipi_irq_work)).toBe(1);
    expect(d(Src.kthread)).toBe(1);
    expect(d(Src.tick)).toBeGreaterThanOrEqual(1);
    expect(d(Src.tick)).toBeLessThanOrEqual(2);
    expect(k.tick.ts[3]!.stopped).toBe(true);
    k.finish();
    expect(buildReport(k, spec).invariants.violations).toEqual([]);
  });

  it("an RT (SCHED_FIFO) wakeup still preempts at once, with a reschedule IPI", () => {
    const spec = scenario([wakeups], { preempt_lazy: true });
    const k = buildKernel(spec);
    for (const t of k.sched.tasks) {
      if (!t.name.startsWith("wakeup/")) continue;
      t.policy = Policy.fifo;
      t.rtPriority = 50;
    }
    k.engine.runUntil(S);
    k.finish();
    const report = buildReport(k, spec);
    for (const cpu of [2, 3]) {
      const i = report.cpus[cpu]!.interruptions;
      expect(i.kthread).toBe(9);
      expect(i.ipi_resched).toBe(9);
      // A FIFO task next to a CFS one lets the tick stop (sched_can_stop_tick()): no kick.
      expect(i.ipi_irq_work).toBe(0);
    }
  });

  it("on the PREEMPT_RT switches, lru_add_drain_all() still queues lru_add_drain_per_cpu on the isolated CPU: the kick, the kworker, about one tick, no reschedule IPI", () => {
    const spec: ScenarioSpec = {
      ...scenario(
        [
          { type: "syscall", cpus: "1", call: "page-fault", every: 100 * S, at: 500 * MS, pages: 2 },
          { type: "lru-drain-all", cpus: "0", every: 100 * S, at: 1300 * MS },
        ],
        rt,
        3 * S,
      ),
    };
    const k = buildKernel(spec);
    k.engine.runUntil(1300 * MS - 1);
    const before = Array.from(k.accounting.cpus[1]!.counts);
    expect(k.lru.batchCount(1)).toBe(2);
    expect(k.tick.ts[1]!.stopped).toBe(true);
    k.engine.runUntil(1320 * MS);
    const after = Array.from(k.accounting.cpus[1]!.counts);
    const d = (src: number): number => after[src]! - before[src]!;
    expect(d(Src.kworker_lru_drain)).toBe(1);
    expect(d(Src.ipi_resched)).toBe(0);
    expect(d(Src.ipi_irq_work)).toBe(1);
    expect(d(Src.tick)).toBeGreaterThanOrEqual(1);
    expect(k.lru.batchCount(1)).toBe(0);
    expect(k.tick.ts[1]!.stopped).toBe(true);
    k.finish();
    expect(buildReport(k, spec).invariants.violations).toEqual([]);
  });
});
