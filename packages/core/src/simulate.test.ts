import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "./simulate.js";
import type { ScenarioSpec } from "./scenario.js";

const MS = 1_000_000;
const S = 1_000 * MS;

const base = (over: Partial<ScenarioSpec> = {}): ScenarioSpec => ({
  name: "t",
  seed: 1,
  duration: 3 * S,
  warmup: 0,
  kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3" },
  workload: [{ type: "user-loop", cpus: "1-3" }],
  ...over,
});

describe("simulate", () => {
  it("is deterministic, and a random (jittered) workload depends on the seed", () => {
    const jittery = (seed: number): ScenarioSpec =>
      base({ seed, workload: [{ type: "user-loop", cpus: "1-3" }, { type: "wakeup", cpus: "2", every: 100 * MS, jitter: 50 * MS, run: 20_000 }] });
    const a = simulate(jittery(1)).report;
    const b = simulate(jittery(1)).report;
    const c = simulate(jittery(2)).report;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.digest).not.toBe(c.digest);
  });

  it("models a remote kthread wakeup on a busy nohz_full CPU as the real 6.1 trace shows it", () => {
    const { report } = simulate(base({ workload: [{ type: "user-loop", cpus: "1-3" }, { type: "wakeup", cpus: "2", every: 300 * MS, run: 20_000 }] }));
    const cpu2 = report.cpus[2]!;
    const wakeups = 9; // firings at 0.3 s … 2.7 s; the one at 3.0 s arrives after the end
    // resched IPI → SCHED kick (irq_work) → the kthread runs → one more tick, then the tick stops.
    expect(cpu2.interruptions.ipi_resched).toBe(wakeups);
    expect(cpu2.interruptions.ipi_irq_work).toBe(wakeups);
    expect(cpu2.interruptions.kthread).toBe(wakeups);
    expect(cpu2.tick.restarts).toBe(wakeups);
    expect(cpu2.tick.kept_by.SCHED).toBe(wakeups);
    expect(cpu2.max_single_noise_ns).toBeGreaterThan(20_000);
    expect(report.cpus[1]!.interruptions.ipi_resched).toBe(0);
  });

  it("counts nested and back-to-back interruptions once in noise", () => {
    const { report, kernel } = simulate(base({ duration: 2 * S, workload: [{ type: "user-loop", cpus: "1-3" }, { type: "wakeup", cpus: "2", every: 500 * MS, run: 100_000 }] }));
    const n = kernel.accounting.cpus[2]!;
    const c = report.cpus[2]!;
    const counted = Object.values(c.interruptions).reduce((a, b) => a + b, 0);
    expect(n.intervals).toBeLessThan(counted);
    expect(c.noise_ns + n.ownNs).toBe(report.measured_ns);
  });

  it("fires one spurious timer interrupt when an idle CPU stops its tick indefinitely without ONESHOT_STOPPED", () => {
    const spec = base({ duration: S, workload: [{ type: "user-loop", cpus: "1-2" }] });
    const { report } = simulate(spec);
    expect(report.cpus[3]!.interruptions.spurious_timer).toBe(1);
    expect(report.cpus[3]!.tick.stops).toBe(1);
    const fixed = simulate({ ...spec, kernel: { ...spec.kernel, params: { clockevent_oneshot_stopped: true } } }).report;
    expect(fixed.cpus[3]!.interruptions.spurious_timer).toBe(0);
    expect(fixed.invariants.violations).toEqual([]);
  });

  it("rejects bad input naming the field, the value and what is valid", () => {
    expect(() => simulate(base({ kernel: { preset: "linux-4.9", cpus: 8, nohzFull: "1-9" } }))).toThrow("kernel.nohz_full");
    expect(() => simulate(base({ kernel: { preset: "linux-4.8", cpus: 8 } }))).toThrow('kernel.preset: unknown preset "linux-4.8" (valid: linux-4.9, linux-6.1, linux-6.12, linux-6.12-rt)');
    expect(() => simulate(base({ kernel: { preset: "linux-4.9", cpus: 0 } }))).toThrow("kernel.cpus: 0 is not valid (valid: an integer 1-8192)");
    expect(() => simulate(base({ kernel: { preset: "linux-4.9", cpus: 4, nohzFull: "1", cmdline: "nohz_full=1" } }))).toThrow("kernel.cmdline: give either");
    expect(() => simulate(base({ kernel: { preset: "linux-4.9", cpus: 4, params: { tick_handler: 3 } } }))).toThrow("kernel.params.tick_handler: unknown parameter");
    expect(() => simulate(base({ workload: [{ type: "syscall", cpus: "1", every: MS, call: "getpid" }] }))).toThrow("workload[0].cpus: CPU 1 has no user-loop task");
  });

  it("takes a kernel command line", () => {
    const { report } = simulate(base({ kernel: { preset: "linux-4.9", cpus: 4, cmdline: "nohz_full=2-3 isolcpus=managed_irq,2-3 rcu_nocbs=2-3" } }));
    expect(report.kernel.nohz_full).toBe("2-3");
    expect(report.cpus.map((c) => c.isolated)).toEqual([false, false, true, true]);
  });
});

describe("waking an idle CPU", () => {
  const idleWakeups = (idlePoll: boolean) =>
    simulate(
      base({
        duration: 2 * S,
        kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3", params: { idle_poll: idlePoll } },
        workload: [{ type: "user-loop", cpus: "1-2" }, { type: "wakeup", cpus: "3", every: 100 * MS, run: 20_000 }],
      }),
    ).report.cpus[3]!;

  it("costs a reschedule IPI when the idle loop halts (HLT, VM guests)", () => {
    const c = idleWakeups(false);
    expect(c.interruptions.kthread).toBe(19);
    expect(c.interruptions.ipi_resched).toBe(19);
  });

  it("costs no IPI when the idle loop polls need_resched (mwait: set_nr_if_polling())", () => {
    const c = idleWakeups(true);
    expect(c.interruptions.kthread).toBe(19);
    expect(c.interruptions.ipi_resched).toBe(0);
    expect(c.tick.restarts).toBe(19);
  });
});

describe("boot options that set switches (pti=, qpw=)", () => {
  const withCmdline = (cmdline: string, params?: Record<string, unknown>): ScenarioSpec =>
    base({ duration: 10 * MS, kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, cmdline, ...(params ? { params } : {}) } });

  it("pti=on gives the kernel its CR3 switch at entry, pti=off and nopti take it away", () => {
    const on = buildKernel(withCmdline("nohz_full=1-3 pti=on"));
    expect(on.params.pti).toBe(true);
    expect(on.entry.has("cr3_switch")).toBe(true);
    expect(buildKernel(withCmdline("nohz_full=1-3 pti=off")).entry.has("cr3_switch")).toBe(false);
    expect(buildKernel(withCmdline("nohz_full=1-3 nopti")).params.pti).toBe(false);
    expect(buildKernel(withCmdline("nohz_full=1-3 pti=auto", { pti: true })).params.pti).toBe(true);
    expect(buildKernel(withCmdline("nohz_full=1-3 qpw=1")).params.qpw).toBe(true);
  });

  it("the command line and kernel.params giving two values is a contradiction naming kernel.params.pti", () => {
    expect(() => buildKernel(withCmdline("nohz_full=1-3 pti=on", { pti: false }))).toThrow(
      "kernel.params.pti: false conflicts with kernel.cmdline, which sets pti on (valid: give pti once, or the same value in both)",
    );
    expect(() => buildKernel(withCmdline("nohz_full=1-3 qpw=0", { qpw: true }))).toThrow(/kernel\.params\.qpw: true conflicts/);
    expect(buildKernel(withCmdline("nohz_full=1-3 pti=on", { pti: true })).params.pti).toBe(true);
  });
});
