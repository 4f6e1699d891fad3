import { describe, expect, it } from "vitest";
import { simulate } from "../simulate.js";

const MS = 1_000_000;

describe("wakeup workload", () => {
  it("counts the woken thread's hrtimer interrupt on the housekeeping CPU under hrtimer (a local timer interrupt that is not the tick)", () => {
    const { report } = simulate({
      name: "wakeup",
      seed: 1,
      duration: 1_000 * MS,
      warmup: 0,
      kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3" },
      workload: [{ type: "user-loop", cpus: "1-3" }, { type: "wakeup", cpus: "2-3", every: 100 * MS, run: 20_000 }],
    });
    // Firings at 100 ms … 900 ms on each of CPUs 2 and 3; each hrtimer expires on CPU 0.
    expect(report.cpus[0]!.interruptions.hrtimer).toBe(18);
    // The tick is counted apart: 999 periodic ticks at 1 ms … 999 ms, as without the wakeups.
    expect(report.cpus[0]!.interruptions.tick).toBe(999);
    for (const c of report.cpus.slice(1)) expect(c.interruptions.hrtimer).toBe(0);
    expect(report.cpus[2]!.interruptions.kthread).toBe(9);
  });
});
