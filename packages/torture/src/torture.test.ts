import { describe, expect, it } from "vitest";
import { invariantIds } from "@isolsim/core";
import { runScenario, violates } from "./shrink.js";
import { formatTortureTable } from "./table.js";
import { torture } from "./torture.js";
import { testRegistry, unsafeFlushRegistry } from "./test-registry.js";

describe("torture", () => {
  it("runs a short fixed-seed torture of the real mechanisms clean, with every invariant evaluated", () => {
    const r = torture({ seed: 1, runs: 12, registry: testRegistry });
    expect(r.failure).toBeNull();
    expect(r.runs).toBe(12);
    expect(r.events).toBeGreaterThan(0);
    expect(r.invariants.map((t) => t.invariant)).toEqual([...invariantIds]);
    for (const id of ["tick-deps", "lru-conservation", "vmstat-exact", "tlb-no-stale", "rcu-callbacks-invoked"]) {
      expect(r.invariants.find((t) => t.invariant === id)!.evaluations).toBeGreaterThan(0);
    }
    expect(formatTortureTable(r)).toMatch(/^torture seed 1: 12 runs, \d+\.\d{3} s simulated, \d+ events$/m);
    expect(formatTortureTable(r)).toMatch(/no invariant violated/);
  });

  it("is deterministic: the same seed and options give the same result", () => {
    const a = torture({ seed: 5, runs: 4, registry: testRegistry });
    expect(torture({ seed: 5, runs: 4, registry: testRegistry })).toEqual(a);
  });

  it("stops at a simulated-time budget instead of a run count", () => {
    const r = torture({ seed: 3, durationNs: 50_000_000, registry: testRegistry });
    expect(r.simulatedNs).toBeGreaterThanOrEqual(50_000_000);
    const fewer = torture({ seed: 3, runs: r.runs - 1, registry: testRegistry });
    expect(fewer.simulatedNs).toBeLessThan(50_000_000);
  });

  it("finds a flush after the sys_enter tracepoint (tlb-no-stale) and shrinks it to a scenario that still violates it", () => {
    const r = torture({ seed: 9, runs: 4, registry: unsafeFlushRegistry, mechanisms: [{ name: "tlb-defer" }] });
    const f = r.failure!;
    expect(f.invariant).toBe("tlb-no-stale");
    expect(r.invariants.find((t) => t.invariant === "tlb-no-stale")!.violations).toBeGreaterThan(0);
    expect(f.scenario.kernel.cpus).toBeLessThanOrEqual(f.original.kernel.cpus);
    expect(f.scenario.workload.length).toBeLessThanOrEqual(f.original.workload.length);
    expect(JSON.stringify(f.scenario).length).toBeLessThan(JSON.stringify(f.original).length);
    const again = runScenario(f.scenario, unsafeFlushRegistry)!;
    expect(violates(again.report, "tlb-no-stale")).toBe(true);
    expect(again.report).toEqual(f.report);
    expect(runScenario(f.scenario, testRegistry)!.report.invariants.violations).toEqual([]);
  });
});
