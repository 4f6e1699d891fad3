import { describe, expect, it } from "vitest";
import { simulate } from "../simulate.js";
import type { ScenarioSpec } from "../scenario.js";

const S = 1_000_000_000;

function scenario(over: Partial<ScenarioSpec> = {}, tasks = 1): ScenarioSpec {
  return {
    name: "residual-tick",
    seed: 1,
    duration: 10 * S,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3" },
    workload: [{ type: "user-loop", cpus: "1-3", tasks }],
    ...over,
  };
}

describe("the tick of nohz_full CPUs (linux-4.9)", () => {
  it("keeps a residual tick about once per second on busy isolated CPUs, HZ on CPU 0", () => {
    const { report } = simulate(scenario());
    const [cpu0, ...iso] = report.cpus;
    expect(cpu0!.interruptions.tick).toBeGreaterThanOrEqual(9990);
    expect(cpu0!.interruptions.tick).toBeLessThanOrEqual(10000);
    expect(cpu0!.tick.kept_by.TIMEKEEPING).toBe(cpu0!.interruptions.tick);
    for (const c of iso) {
      expect(c.isolated).toBe(true);
      expect(c.interruptions.tick).toBeGreaterThanOrEqual(9);
      expect(c.interruptions.tick).toBeLessThanOrEqual(12);
      expect(c.tick.kept_by.MAX_DEFERMENT).toBeGreaterThanOrEqual(9);
      expect(c.tick.stopped_pct).toBeGreaterThan(99);
      expect(c.noise_ns).toBeGreaterThan(0);
      expect(c.available_pct).toBeGreaterThan(99.99);
    }
    expect(report.invariants.violations).toEqual([]);
  });

  it("keeps the tick at HZ with reason SCHED when two tasks are runnable on an isolated CPU", () => {
    const { report } = simulate(scenario({ duration: 2 * S }, 2));
    for (const c of report.cpus.slice(1)) {
      expect(c.interruptions.tick).toBeGreaterThanOrEqual(1990);
      expect(c.tick.kept_by.SCHED).toBeGreaterThanOrEqual(1980);
    }
    expect(report.invariants.violations).toEqual([]);
  });

  it("gives the same digest for the same seed", () => {
    const a = simulate(scenario({ duration: S }));
    const b = simulate(scenario({ duration: S }));
    expect(a.report.digest).toBe(b.report.digest);
    expect(a.report).toEqual(b.report);
  });
});
