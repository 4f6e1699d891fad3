import { describe, expect, it } from "vitest";
import { simulate } from "@isolsim/core";
import type { FairServerFigures, Kernel, ScenarioSpec, WorkloadSpec } from "@isolsim/core";
import { remoteStats } from "./index.js";

// The 6.12 fair server (core's sched/deadline.ts) needs the remote tick (mainline v5.4
// sched_tick_remote(), this package): its delayed work is the only regular update_curr() charge on a
// tickless CPU. Core cannot import a package built on it, so the server's tests live here.

const S = 1_000_000_000;
const MS = 1_000_000;

/** 4 CPUs, HZ 250, nohz_full=1-3, one busy CFS task per isolated CPU, 20 s, the 6.12 fair server (50 ms / 1 s) and the remote tick. */
function scenario(params: Record<string, unknown> = {}, workload: WorkloadSpec[] = []): ScenarioSpec {
  return {
    name: "fair-server",
    seed: 1,
    duration: 20 * S,
    warmup: S,
    kernel: {
      preset: "linux-4.9",
      cpus: 4,
      hz: 250,
      nohzFull: "1-3",
      params: { fair_server_runtime_ns: 50 * MS, fair_server_period_ns: S, ...params },
    },
    workload: [{ type: "user-loop", cpus: "1-3" }, ...workload],
  };
}

const run = (spec: ScenarioSpec) => simulate(spec, { mechanisms: [remoteStats()] });

const fig = (k: Kernel): FairServerFigures => k.sched.fairServer!.fig;

describe("the fair server (6.12 deferred dl server)", () => {
  it("kicks every busy isolated CPU about once a second: one reschedule IPI, one kick, one tick, from its hrtimer on CPU 0", () => {
    const { report, kernel } = run(scenario());
    let kicks = 0;
    for (const c of report.cpus.slice(1)) {
      const i = c.interruptions;
      // 19 s measured; the remote tick re-arms the server every 1.024 s (timer-wheel granularity).
      expect(i.ipi_resched).toBeGreaterThanOrEqual(17);
      expect(i.ipi_resched).toBeLessThanOrEqual(20);
      expect(i.ipi_irq_work).toBe(i.ipi_resched);
      // The restarted tick fires once, kept by SCHED (dl_nr_running), and stops again.
      expect(i.tick).toBe(i.ipi_resched);
      expect(c.tick.kept_by.SCHED).toBe(i.ipi_resched);
      expect(c.tick.restarts).toBe(i.ipi_resched);
      expect(i.hrtimer).toBe(0);
      kicks += i.ipi_irq_work;
    }
    // Each kick comes from dl_server_timer() in a hrtimer interrupt on housekeeping CPU 0.
    expect(report.cpus[0]!.interruptions.hrtimer).toBe(kicks);
    expect(fig(kernel).timerEnqueues).toBe(kicks);
    expect(fig(kernel).exhausted).toBe(kicks);
  });

  it("refuses a runtime above the period, naming the field (exit 2 in the CLI)", () => {
    expect(() => run(scenario({ fair_server_runtime_ns: 2 * S }))).toThrow(/^kernel\.params\.fair_server_runtime_ns: runtime 2000000000 ns exceeds period 1000000000 ns/);
    expect(() => run(scenario({ fair_server_period_ns: 40 * MS }))).toThrow(/^kernel\.params\.fair_server_runtime_ns: runtime 50000000 ns exceeds period 40000000 ns/);
  });

  it("runtime 0 (the debugfs workaround) means no fair server: no kick at all", () => {
    const { report, kernel } = run(scenario({ fair_server_runtime_ns: 0 }));
    for (const c of report.cpus.slice(1)) {
      expect(c.interruptions.ipi_resched).toBe(0);
      expect(c.interruptions.ipi_irq_work).toBe(0);
      expect(c.interruptions.tick).toBe(0);
    }
    expect(report.cpus[0]!.interruptions.hrtimer).toBe(0);
    expect(kernel.sched.fairServer).toBeNull();
  });

  it("a CPU whose tick runs anyway (two busy tasks) gets no kick: its ticks charge the server, which re-arms", () => {
    const { report } = run(scenario({}, [{ type: "user-loop", cpus: "3", tasks: 1 }]));
    const c3 = report.cpus[3]!;
    expect(c3.interruptions.tick).toBeGreaterThan(19 * 240);
    expect(c3.tick.kept_by.SCHED).toBe(c3.interruptions.tick);
    expect(c3.interruptions.ipi_resched).toBe(0);
    expect(c3.interruptions.ipi_irq_work).toBe(0);
    // CPUs 1-2 still get theirs, and only theirs come from the server's timer.
    const others = report.cpus[1]!.interruptions.ipi_irq_work + report.cpus[2]!.interruptions.ipi_irq_work;
    expect(others).toBeGreaterThanOrEqual(34);
    expect(report.cpus[0]!.interruptions.hrtimer).toBe(others);
  });

  it("a CPU that a wakeup enters within each period gets no second kick: update_curr() there re-arms the server", () => {
    const { report } = run(scenario({}, [{ type: "wakeup", cpus: "2", every: 700 * MS, run: 20_000 }]));
    const c2 = report.cpus[2]!;
    // The wakeups' own cascade only (resched IPI, kick, kthread, one tick), nothing from the server.
    expect(c2.interruptions.kthread).toBeGreaterThanOrEqual(26);
    expect(c2.interruptions.ipi_resched).toBe(c2.interruptions.kthread);
    expect(c2.interruptions.ipi_irq_work).toBe(c2.interruptions.kthread);
    // CPUs 1 and 3 keep their 1 Hz kick.
    expect(report.cpus[1]!.interruptions.ipi_irq_work).toBeGreaterThanOrEqual(17);
    expect(report.cpus[3]!.interruptions.ipi_irq_work).toBeGreaterThanOrEqual(17);
  });

  it("a CPU that a drain enters within each period gets no kick from the server: the kworker's switch runs update_curr()", () => {
    const drains: WorkloadSpec[] = [
      { type: "syscall", cpus: "3", call: "file-write", pages: 8, every: 700 * MS },
      { type: "lru-drain-all", cpus: "0", every: 100 * MS },
    ];
    const { report } = run(scenario({}, drains));
    const without = run(scenario({ fair_server_runtime_ns: 0 }, drains)).report;
    const c3 = report.cpus[3]!;
    expect(c3.interruptions.kworker_lru_drain).toBeGreaterThanOrEqual(26);
    // CPU 3 sees exactly what it sees without a fair server: the drains' cascades (and 4.9's vmstat_update on their ticks).
    expect(c3.interruptions).toEqual(without.cpus[3]!.interruptions);
    expect(c3.tick).toEqual(without.cpus[3]!.tick);
    // The server's hrtimer expiries on CPU 0 are CPU 1's and 2's kicks only.
    expect(report.cpus[0]!.interruptions.hrtimer).toBe(report.cpus[1]!.interruptions.ipi_irq_work + report.cpus[2]!.interruptions.ipi_irq_work);
  });

  it("a wakeup entering the CPU replaces that second's kick rather than adding one", () => {
    const quiet = run(scenario()).report.cpus[2]!.interruptions;
    const { report } = run(scenario({}, [{ type: "wakeup", cpus: "2", every: 3 * S, run: 20_000 }]));
    const c2 = report.cpus[2]!.interruptions;
    expect(c2.kthread).toBe(6);
    // Each wakeup brings its own reschedule IPI; the server's kicks that it replaces are gone.
    expect(c2.ipi_resched).toBeLessThan(quiet.ipi_resched + c2.kthread);
    expect(c2.ipi_resched).toBeGreaterThanOrEqual(quiet.ipi_resched);
  });

  it("v6.17 (dlServerCountsNrRunning false): the server's enqueue no longer kicks the tick; the reschedule IPI stays", () => {
    const { report } = run(scenario({ dl_server_counts_nr_running: false }));
    for (const c of report.cpus.slice(1)) {
      expect(c.interruptions.ipi_resched).toBeGreaterThanOrEqual(17);
      expect(c.interruptions.ipi_irq_work).toBe(0);
      expect(c.interruptions.tick).toBe(0);
      expect(c.tick.restarts).toBe(0);
    }
  });

  it("v6.19 (dlServerTimerUpdatesCurr true): the timer charges update_curr() first, finds the runtime used and re-arms: nothing reaches the CPU", () => {
    const { report, kernel } = run(scenario({ dl_server_timer_updates_curr: true }));
    for (const c of report.cpus.slice(1)) {
      expect(c.interruptions.ipi_resched).toBe(0);
      expect(c.interruptions.ipi_irq_work).toBe(0);
      expect(c.interruptions.tick).toBe(0);
    }
    // The timer still runs on CPU 0 about once a second per isolated CPU.
    expect(report.cpus[0]!.interruptions.hrtimer).toBeGreaterThanOrEqual(51);
    expect(fig(kernel).timerEnqueues).toBe(0);
  });

  it("on a CPU busy with a SCHED_FIFO task, a woken kthread costs a reschedule IPI (dl_server_start()) and is served, not starved", () => {
    const w: WorkloadSpec[] = [
      { type: "user-loop", cpus: "3", policy: "fifo", priority: 50 },
      { type: "wakeup", cpus: "3", every: 500 * MS, run: 20_000 },
    ];
    const spec = (runtime: number): ScenarioSpec => ({ ...scenario({ fair_server_runtime_ns: runtime }), duration: 5 * S, workload: [{ type: "user-loop", cpus: "1-2" }, ...w] });
    const on = run(spec(50 * MS)).report.cpus[3]!;
    const off = run(spec(0)).report.cpus[3]!;
    // Without the server, the kthread waits for RT throttling (950 ms of each second) and most wakeups are lost in overruns.
    expect(off.interruptions.kthread).toBeLessThanOrEqual(4);
    expect(off.max_single_noise_ns).toBeGreaterThan(500 * MS);
    // With it, the first wakeup (in the warm-up) waits for the deferred timer, which sets dl_defer_running; from then on
    // dl_server_start() enqueues the server at once and resched_curr()s: each wakeup is one reschedule IPI and the
    // server picks the kthread over the RT task.
    expect(on.interruptions.kthread).toBe(8);
    expect(on.interruptions.ipi_resched).toBe(8);
    expect(on.max_single_noise_ns).toBeLessThan(MS);
  });

  it("serves a CFS task starved by an RT hog: it runs about runtime per period", () => {
    const spec = scenario({ fair_server_runtime_ns: 50 * MS });
    spec.duration = 4 * S;
    spec.kernel.params = { ...spec.kernel.params, sched_rt_runtime_ns: -1 };
    spec.workload = [
      { type: "user-loop", cpus: "3", policy: "fifo", priority: 50 },
      { type: "user-loop", cpus: "3" },
    ] as WorkloadSpec[];
    const { kernel } = run(spec);
    const cfs = kernel.sched.userTasksOf(3).find((t) => t.policy === 0)!;
    // Without RT throttling only the fair server lets it run: 50 ms in each 1 s period.
    expect(cfs.sumExec).toBeGreaterThanOrEqual(3 * 45 * MS);
    expect(cfs.sumExec).toBeLessThanOrEqual(4 * 55 * MS);
  });
});
