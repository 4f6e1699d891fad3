import { describe, expect, it } from "vitest";
import { simulate } from "../simulate.js";
import type { ScenarioSpec } from "../scenario.js";
import { rcuLeafNodeIndexes } from "./kthreads.js";

const S = 1_000_000_000;

const spec = (cpus: number, params: Record<string, unknown>): ScenarioSpec => ({
  name: "rcu-kthreads",
  seed: 1,
  duration: S / 10,
  warmup: 0,
  kernel: { preset: "linux-4.9", cpus, hz: 250, nohzFull: `1-${cpus - 1}`, params },
  workload: [{ type: "user-loop", cpus: `1-${cpus - 1}` }],
});

const names = (r: ReturnType<typeof simulate>): string[] => r.kernel.sched.tasks.filter((t) => !t.user).map((t) => t.name);

describe("expedited and tasks-RCU kthreads (6.12 tree.c rcu_start_exp_gp_kworker(), tasks.h)", () => {
  it("numbers leaf rcu_nodes as rcu_init_geometry() lays them out", () => {
    expect(rcuLeafNodeIndexes(4)).toEqual([0]);
    expect(rcuLeafNodeIndexes(16)).toEqual([0]);
    expect(rcuLeafNodeIndexes(17)).toEqual([1, 2]);
    expect(rcuLeafNodeIndexes(64)).toEqual([1, 2, 3, 4]);
  });

  it("exist in the report's kthreads, under other, and the roles add up to the total", () => {
    const base = simulate(spec(4, {}));
    const r = simulate(spec(4, { rcu_exp_kthread_workers: true, rcu_tasks_kthreads: true }));
    const added = names(r).filter((n) => !names(base).includes(n));
    expect(added).toEqual(["rcu_exp_par_gp_kthread_worker/0", "rcu_exp_gp_kthread_worker", "rcu_tasks_kthread", "rcu_tasks_rude_kthread", "rcu_tasks_trace_kthread"]);
    expect(r.report.kthreads.other - base.report.kthreads.other).toBe(5);
    expect(r.report.kthreads.total - base.report.kthreads.total).toBe(5);
    const k = r.report.kthreads;
    expect(k.rcu_callback + k.rcu_gp + k.kworker + k.other).toBe(k.total);
    // bound to the housekeeping CPU, never run in a quiet run
    for (const t of r.kernel.sched.tasks.filter((t) => added.includes(t.name))) {
      expect(t.cpu).toBe(0);
      expect(t.wakeups).toBe(0);
    }
    for (const c of r.report.cpus.slice(1)) expect(c.interruptions).toEqual(base.report.cpus[c.cpu]!.interruptions);
  });

  it("has one rcu_exp_par_gp_kthread_worker per leaf rcu_node", () => {
    const r = simulate(spec(40, { rcu_exp_kthread_workers: true }));
    expect(names(r).filter((n) => n.startsWith("rcu_exp"))).toEqual(["rcu_exp_par_gp_kthread_worker/1", "rcu_exp_gp_kthread_worker", "rcu_exp_par_gp_kthread_worker/2", "rcu_exp_par_gp_kthread_worker/3"]);
  });
});
