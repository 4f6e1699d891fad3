import { describe, expect, it } from "vitest";
import { ClockEventState, buildKernel, buildReport, simulate } from "@isolsim/core";
import type { Kernel, Mechanism, ScenarioSpec } from "@isolsim/core";
import { oneshotStopped } from "./index.js";

const S = 1_000_000_000;
const MS = 1_000_000;

/** Isolated CPUs 1-3 are idle; a kthread is woken on each every 100 ms, so each goes idle (and stops its tick) 10 times a second. */
function scenario(over: Partial<ScenarioSpec> = {}): ScenarioSpec {
  return {
    name: "oneshot-stopped",
    seed: 1,
    duration: 3 * S,
    warmup: S,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3" },
    workload: [{ type: "wakeup", cpus: "1-3", every: 100 * MS, run: 20_000 }],
    ...over,
  };
}

describe("oneshot-stopped", () => {
  it("linux-4.9 without it: each indefinite (idle) tick stop fires one spurious timer interrupt at the old deadline", () => {
    const { report } = simulate(scenario());
    for (const c of report.cpus.slice(1)) {
      expect(c.tick.stops).toBeGreaterThanOrEqual(19);
      expect(Math.abs(c.interruptions.spurious_timer - c.tick.stops)).toBeLessThanOrEqual(1);
    }
    expect(report.invariants.violations).toEqual([]);
  });

  it("with it: the same stops leave no spurious timer interrupt, and the devices sit in ONESHOT_STOPPED", () => {
    const { report, kernel } = simulate(scenario(), { mechanisms: [oneshotStopped()] });
    for (const c of report.cpus.slice(1)) {
      expect(c.tick.stops).toBeGreaterThanOrEqual(19);
      expect(c.interruptions.spurious_timer).toBe(0);
    }
    expect(report.kernel.mechanisms).toEqual([{ name: "oneshot-stopped" }]);
    for (const cpu of [1, 2, 3]) {
      expect(kernel.clockevents.devices[cpu]!.supportsOneshotStopped).toBe(true);
      expect(kernel.clockevents.devices[cpu]!.state).toBe(ClockEventState.oneshotStopped);
    }
    expect(report.invariants.checked).toContain("clockevent-stopped");
    expect(report.invariants.violations).toEqual([]);
  });

  it("clockevent-stopped reports a device that claims ONESHOT_STOPPED but still fires", () => {
    const spec = scenario();
    const k = buildKernel(spec, { mechanisms: [oneshotStopped()] });
    // A broken driver: set_state_oneshot_stopped switches the state but leaves the deadline armed.
    k.clockevents.programStopped = (cpu: number): void => {
      k.clockevents.devices[cpu]!.state = ClockEventState.oneshotStopped;
    };
    k.engine.runUntil(spec.duration);
    k.finish();
    const v = buildReport(k, spec).invariants.violations;
    expect(v.length).toBeGreaterThan(0);
    expect(v.every((x) => x.invariant === "clockevent-stopped")).toBe(true);
    expect(v[0]!.detail).toMatch(/supports ONESHOT_STOPPED/);
  });

  it("set on only one CPU (broken on purpose) is an effect failure, not a safety one: the other CPUs keep their legal spurious interrupt", () => {
    const onlyCpu1: Mechanism = {
      name: "oneshot-stopped",
      description: "test: the callback set on CPU 1 only",
      install(k: Kernel): void {
        k.clockevents.devices[1]!.supportsOneshotStopped = true;
      },
    };
    const { report } = simulate(scenario(), { mechanisms: [onlyCpu1] });
    expect(report.cpus[1]!.interruptions.spurious_timer).toBe(0);
    for (const c of report.cpus.slice(2)) expect(c.interruptions.spurious_timer).toBeGreaterThanOrEqual(19);
    // Each device behaves as its driver says (no callback: -ENOSYS, the state stays ONESHOT, one
    // interrupt per indefinite stop), so clockevent-stopped holds; only the counts show the bug.
    expect(report.invariants.violations).toEqual([]);
  });
});
