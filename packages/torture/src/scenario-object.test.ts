import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { durationNs, fileDuration, scenarioSpecOf } from "./scenario-object.js";

describe("file durations", () => {
  it("write the largest unit that divides and read back to the same ns", () => {
    expect(fileDuration(250_000)).toBe("250us");
    expect(fileDuration(3_000_000_000)).toBe("3s");
    expect(fileDuration(1_500)).toBe(1500);
    fc.assert(fc.property(fc.integer({ min: 0, max: 3_600_000_000_000 }), (ns) => durationNs(fileDuration(ns)) === ns));
  });

  it("refuses what isolsim would not read as torture writes it", () => {
    for (const bad of ["1.5ms", "ms", "-1", -1, 1.5, "10 s", null]) expect(durationNs(bad)).toBeNull();
  });
});

describe("scenarioSpecOf", () => {
  it("converts snake_case and durations as the scenario file loader does", () => {
    const spec = scenarioSpecOf({
      name: "x",
      seed: 3,
      duration: "10ms",
      kernel: { preset: "linux-6.1", cpus: 4, nohz_full: "1-3", mechanisms: ["tlb-defer", { name: "remote-stats" }] },
      workload: [{ type: "syscall", cpus: "1", every: "100us", at: 5, call: "getpid" }],
    });
    expect(spec).toEqual({
      name: "x",
      seed: 3,
      duration: 10_000_000,
      warmup: 0,
      kernel: { preset: "linux-6.1", cpus: 4, nohzFull: "1-3", mechanisms: [{ name: "tlb-defer" }, { name: "remote-stats" }] },
      workload: [{ type: "syscall", cpus: "1", every: 100_000, at: 5, call: "getpid" }],
    });
  });
});
