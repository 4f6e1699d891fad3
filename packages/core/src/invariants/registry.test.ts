import { describe, expect, it } from "vitest";
import { simulate } from "../simulate.js";
import type { ScenarioSpec, WorkloadSpec } from "../scenario.js";
import type { Kernel } from "../kernel.js";
import type { Mechanism } from "../mechanism.js";
import { ClockEventState } from "../time/clockevents.js";

const MS = 1_000_000;
const S = 1_000 * MS;

const spec = (workload: WorkloadSpec[], params: Record<string, unknown> = {}): ScenarioSpec => ({
  name: "tick-broken",
  seed: 1,
  duration: S,
  warmup: 0,
  kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3", params },
  workload,
});

/** A deliberately broken kernel, installed as a mechanism so the change is in place before boot. */
const broken = (name: string, install: (k: Kernel) => void): Mechanism => ({ name, description: `test: ${name}`, install });

describe("tick-deps is evaluated during the run", () => {
  const twoTasks: WorkloadSpec[] = [{ type: "user-loop", cpus: "1-2" }, { type: "user-loop", cpus: "3", tasks: 2 }];

  it("a can_stop_full_tick() that ignores SCHED stops the tick of a CPU with two runnable tasks: reported with CPU, time and detail", () => {
    expect(simulate(spec(twoTasks)).report.invariants.violations).toEqual([]);
    const { report } = simulate(spec(twoTasks), { mechanisms: [broken("stop-regardless", (k) => (k.tick.cantStopReason = () => -1))] });
    const v = report.invariants.violations.filter((x) => x.invariant === "tick-deps");
    expect(v.length).toBeGreaterThan(0);
    expect(v[0]!.cpu).toBe(3);
    expect(v[0]!.time_ns).toBeGreaterThan(0);
    expect(v[0]!.time_ns).toBeLessThan(S);
    expect(v[0]!.detail).toContain("SCHED");
    expect(v[0]!.detail).toContain("2 runnable tasks");
    expect(report.invariants.violations.every((x) => x.cpu === 3)).toBe(true);
  });

  it("a lost nohz_full kick (and no reschedule IPI) leaves a woken kthread's CPU tickless: reported after one jiffy", () => {
    const wake: WorkloadSpec[] = [{ type: "user-loop", cpus: "1-3" }, { type: "wakeup", cpus: "2", every: 300 * MS, run: 20_000 }];
    expect(simulate(spec(wake)).report.invariants.violations).toEqual([]);
    const lost = broken("lost-kick", (k) => {
      k.tick.kick = () => {};
      // Once the tasks run, a remote resched_curr() sets TIF_NEED_RESCHED but sends no IPI.
      const reschedCurr = k.sched.reschedCurr.bind(k.sched);
      k.sched.reschedCurr = (cpu, from = k.executingCpu) => {
        if (k.engine.now < 100 * MS || cpu === from) reschedCurr(cpu, from);
        else k.cpus[cpu]!.needResched = true;
      };
    });
    const { report } = simulate(spec(wake), { mechanisms: [lost] });
    const v = report.invariants.violations.filter((x) => x.invariant === "tick-deps");
    expect(v.length).toBeGreaterThan(0);
    expect(v[0]!.cpu).toBe(2);
    // The first wakeup is at 300 ms; the timekeeper's tick sees the owed restart one to two jiffies later.
    expect(v[0]!.time_ns).toBeGreaterThan(300 * MS + MS);
    expect(v[0]!.time_ns).toBeLessThanOrEqual(300 * MS + 3 * MS);
    expect(v[0]!.detail).toMatch(/still stopped \d+ ns after it became needed/);
  });
});

describe("clockevent-stopped is checked both ways", () => {
  // CPU 3 has no task: it idles and stops its tick indefinitely (tick_nohz_idle_enter()).
  const idleCpu3: WorkloadSpec[] = [{ type: "user-loop", cpus: "1-2" }];

  it("a device without ONESHOT_STOPPED whose stale deadline is silently cancelled (as if it had the callback) is reported", () => {
    const clean = simulate(spec(idleCpu3)).report;
    expect(clean.cpus[3]!.interruptions.spurious_timer).toBe(1);
    expect(clean.invariants.violations).toEqual([]);
    const swallow = broken("swallow-deadline", (k) => {
      // A model that stops the hardware although set_state_oneshot_stopped is missing.
      k.clockevents.programStopped = (cpu) => {
        const d = k.clockevents.devices[cpu]!;
        if (d.handle) k.engine.cancel(d.handle);
        d.handle = 0;
        d.nextEvent = Infinity;
      };
    });
    const { report } = simulate(spec(idleCpu3), { mechanisms: [swallow] });
    expect(report.cpus[3]!.interruptions.spurious_timer).toBe(0);
    const v = report.invariants.violations.filter((x) => x.invariant === "clockevent-stopped");
    expect(v.length).toBeGreaterThan(0);
    expect(v[0]!.cpu).toBe(3);
    expect(v[0]!.time_ns).toBeLessThan(10 * MS);
    expect(v[0]!.detail).toMatch(/^device without ONESHOT_STOPPED stopped indefinitely with a deadline armed at \d+ ns; no timer interrupt arrived/);
  });

  it("a device with ONESHOT_STOPPED that still fires its old deadline is reported", () => {
    const withCallback = spec(idleCpu3, { clockevent_oneshot_stopped: true });
    expect(simulate(withCallback).report.invariants.violations).toEqual([]);
    // The driver's set_state_oneshot_stopped switches the state but leaves the deadline armed.
    const leaky = broken("leaky-stop", (k) => (k.clockevents.programStopped = (cpu) => (k.clockevents.devices[cpu]!.state = ClockEventState.oneshotStopped)));
    const { report } = simulate(withCallback, { mechanisms: [leaky] });
    const v = report.invariants.violations.filter((x) => x.invariant === "clockevent-stopped");
    expect(v.length).toBeGreaterThan(0);
    expect(v[0]!.cpu).toBe(3);
    expect(v[0]!.detail).toBe("timer interrupt after an indefinite stop although the device supports ONESHOT_STOPPED");
  });

  it("a re-arm that leaves the device ONESHOT_STOPPED (tick_program_event() without its switch back) is reported: the restarted tick would never interrupt", () => {
    // CPU 3 idles (tick stopped, device ONESHOT_STOPPED); a kthread woken there every 100 ms restarts its tick.
    const wakeIdle = spec([...idleCpu3, { type: "wakeup", cpus: "3", every: 100 * MS, run: 20_000 }], { clockevent_oneshot_stopped: true });
    const clean = simulate(wakeIdle).report;
    expect(clean.invariants.violations).toEqual([]);
    const stuck = broken("rearm-stays-stopped", (k) => (k.clockevents.programEvent = (cpu, expires) => k.clockevents.programDevice(cpu, expires)));
    const { report } = simulate(wakeIdle, { mechanisms: [stuck] });
    const v = report.invariants.violations.filter((x) => x.invariant === "clockevent-stopped");
    expect(v.length).toBeGreaterThan(0);
    expect(v[0]!.cpu).toBe(3);
    expect(v[0]!.time_ns).toBeGreaterThanOrEqual(100 * MS);
    expect(v[0]!.time_ns).toBeLessThan(101 * MS);
    expect(v[0]!.detail).toMatch(/^device programmed for \d+ ns in state ONESHOT_STOPPED, not ONESHOT: no timer interrupt will come/);
  });
});
