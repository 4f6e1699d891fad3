import { describe, expect, it } from "vitest";
import type { ScenarioObject } from "./scenario-object.js";
import { runScenario, shrink, violates } from "./shrink.js";
import { unsafeFlushRegistry, testRegistry } from "./test-registry.js";

/** A BPF program re-JIT'd every ms while 4 nohz_full CPUs make syscalls, with noise around it. */
const failing: ScenarioObject = {
  name: "unsafe",
  seed: 1,
  duration: "60ms",
  warmup: "1ms",
  kernel: { preset: "linux-4.9", cpus: 8, hz: 1000, nohz_full: "1-7", mechanisms: [{ name: "tlb-defer" }, "remote-stats"] },
  workload: [
    { type: "user-loop", cpus: "1-7" },
    { type: "syscall", cpus: "1-7", every: "1300us", jitter: "400us", call: "getpid" },
    { type: "bpf", cpus: "1-7", attach: "sys_enter", every: "1ms", pages: 1023 },
    { type: "wakeup", cpus: "3", every: "7ms", run: "20us" },
    { type: "lru-drain-all", cpus: "0", every: "5ms" },
  ],
};

describe("shrink", () => {
  it("keeps only smaller scenarios that violate the same invariant, to a fixpoint", () => {
    expect(violates(runScenario(failing, unsafeFlushRegistry)!.report, "tlb-no-stale")).toBe(true);
    const s = shrink(failing, "tlb-no-stale", unsafeFlushRegistry);
    expect(violates(s.report, "tlb-no-stale")).toBe(true);
    expect(s.scenario.kernel.cpus).toBeLessThan(8);
    expect(s.scenario.workload.length).toBeLessThan(failing.workload.length);
    expect(s.scenario.workload.some((w) => w.jitter !== undefined)).toBe(false);
    expect(s.scenario.kernel.mechanisms).toEqual([{ name: "tlb-defer" }]);
    expect(s.kept).toBeGreaterThan(0);
    expect(runScenario(s.scenario, unsafeFlushRegistry)!.report).toEqual(s.report);
    expect(shrink(failing, "tlb-no-stale", unsafeFlushRegistry)).toEqual(s);
  });

  it("refuses a scenario that does not violate the invariant", () => {
    expect(() => shrink(failing, "tlb-no-stale", testRegistry)).toThrow(/does not violate tlb-no-stale/);
  });
});
