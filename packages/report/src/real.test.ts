import { interruptionKeys, tickKeptByKeys } from "@isolsim/core";
import type { CpuReport, Report } from "@isolsim/core";
import { describe, expect, it } from "vitest";
import { compareWithReal, formatRealComparison } from "./real.js";

/** A 4-CPU report (CPU 0 housekeeping) with the given counts per CPU. */
function report(counts: (cpu: number) => Partial<Record<string, number | null>>, noise = 0): Report {
  const cpus: CpuReport[] = Array.from({ length: 4 }, (_, cpu) => ({
    cpu,
    isolated: cpu > 0,
    noise_ns: cpu > 0 ? noise : 0,
    max_single_noise_ns: 0,
    available_pct: 100,
    interruptions: { ...Object.fromEntries(interruptionKeys.map((k) => [k, 0])), ...counts(cpu) } as CpuReport["interruptions"],
    tick: { stopped_pct: 99, stops: 1, restarts: 1, kept_by: Object.fromEntries(tickKeptByKeys.map((k) => [k, 0])) as CpuReport["tick"]["kept_by"] },
  }));
  return {
    scenario: "real-e2e",
    seed: 1,
    kernel: { preset: "linux-6.1", cpus: 4, hz: 250, nohz_full: "1-3", mechanisms: [] },
    simulated_ns: 3e9,
    measured_ns: 2e9,
    events: 1,
    cpus,
    housekeeping: { remote_ticks: 0, lru_drains: 0, tlb_flushes: 0, noise_ns: 0 },
    kthreads: { rcu_callback: 0, rcu_gp: 0, kworker: 0, other: 0, total: 0 },
    mechanism_stats: {},
    invariants: { checked: [], violations: [] },
    digest: "0",
  };
}

const sim = report((cpu) => ({ tick: cpu === 0 ? 500 : 2, kworker_lru_drain: cpu === 1 ? 4 : 0 }), 3000);
const real = report((cpu) => ({ tick: cpu === 0 ? 497 : 3, kworker_lru_drain: cpu === 1 ? 4 : 0, ipi_tlb_flush: cpu === 2 ? null : 0 }), 5000);

describe("a simulation beside the real kernel", () => {
  const c = compareWithReal([{ preset: "linux-6.1", report: sim }], { report: real, release: "6.1.0-57-amd64", notes: ["durations are emulated"] });

  it("has one row per CPU and source with the kernel minus the simulation", () => {
    const tick1 = c.rows.find((r) => r.cpu === 1 && r.source === "tick");
    expect(tick1).toEqual({ cpu: 1, isolated: true, source: "tick", simulated: { "linux-6.1": 2 }, real: 3, difference: { "linux-6.1": 1 } });
    expect(c.rows.find((r) => r.cpu === 0 && r.source === "tick")?.difference).toEqual({ "linux-6.1": -3 });
  });

  it("leaves out sources nobody counted, keeps the ones the kernel cannot tell as unknown", () => {
    expect(c.rows.some((r) => r.source === "ipi_resched")).toBe(false);
    expect(c.rows.find((r) => r.cpu === 2 && r.source === "ipi_tlb_flush")).toMatchObject({ real: null, difference: { "linux-6.1": null } });
  });

  it("puts each CPU's noise beside the simulation's", () => {
    expect(c.rows.find((r) => r.cpu === 3 && r.source === "noise_ns")).toMatchObject({ simulated: { "linux-6.1": 3000 }, real: 5000, difference: { "linux-6.1": 2000 } });
  });

  it("prints the rows, the unknowns as ? and the notes", () => {
    const t = formatRealComparison(c);
    expect(t).toMatch(/^\s*1\s+TICK\s+2\s+3\s+\+1$/m);
    expect(t).toMatch(/^\s*0 \(hk\)\s+TICK\s+500\s+497\s+-3$/m);
    expect(t).toMatch(/^\s*2\s+\S+\s+0\s+\?\s+\?$/m);
    expect(t).toContain("note: durations are emulated");
  });

  it("gives each preset its own column when several are simulated", () => {
    const two = compareWithReal([{ preset: "linux-6.1", report: sim }, { preset: "linux-6.12", report: sim }], { report: real, release: "6.1.0-57-amd64", notes: [] });
    expect(formatRealComparison(two).split("\n")[2]).toMatch(/CPU\s+source\s+linux-6\.1\s+linux-6\.12\s+kernel\s+diff linux-6\.1\s+diff linux-6\.12/);
  });
});
