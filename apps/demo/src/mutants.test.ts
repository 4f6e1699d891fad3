import { simulate } from "@isolsim/core";
import type { Report } from "@isolsim/core";
import { describe, expect, it } from "vitest";
import { mutantRegistry, mutants } from "./mutants.js";
import type { Mutant } from "./mutants.js";
import { registry } from "./registry.js";
import { scenarioFromObject } from "./scenario-file.js";

/** Runs a mutant's hand scenario with the mutant (or, `correct`, with the mechanism as shipped). */
function run(m: Mutant, correct = false): Report {
  const reg = correct ? registry : mutantRegistry(m);
  return simulate(scenarioFromObject(m.scenario, { registry: reg }), { registry: reg }).report;
}

/** How soon each caught mutant's hand scenario reports its invariant: the first violation's time, ns (docs/torture.md quotes them). */
const caughtAt: Record<string, number> = {
  "remote-stats/skip-work": 1_026_018_008,
  "remote-stats/no-requeue": 2_026_014_051,
  "lru-spinlock-drain/drainer-skips-lock": 62_576_525,
  "lru-spinlock-drain/owner-skips-lock": 62_576_525,
  "vmstat-quiesce/fold-drops-diffs": 10_002_450,
  "vmstat-quiesce/fold-keeps-diffs": 10_002_450,
  "tlb-defer/skip-flush": 27_376_942,
  "tlb-defer/defer-in-kernel": 25_516_350,
  "rcu-nocb-merge/drop-callback": 115_000_000,
  "rcu-nocb-merge/invoke-twice": 14_008_300,
  "oneshot-stopped/leave-armed": 1_000_000,
  "oneshot-stopped/stop-reports-error": 2_000_000,
  "oneshot-stopped/rearm-stays-stopped": 100_003_860,
};

describe("mutants: each broken mechanism against a hand-written scenario", () => {
  it("every mechanism package has at least two mutants, none selectable from a scenario file", () => {
    for (const name of Object.keys(registry)) expect(mutants.filter((m) => m.mechanism === name).length).toBeGreaterThanOrEqual(2);
    for (const m of mutants) {
      const entry = { ...(m.scenario.kernel as Record<string, unknown>), mechanisms: [{ name: m.mechanism, options: { faults: {} } }] };
      expect(() => scenarioFromObject({ ...m.scenario, kernel: entry }, { registry })).toThrow(/unknown option/);
    }
  });

  for (const m of mutants.filter((x) => x.caughtBy !== null)) {
    it(`${m.id} (${m.what}) is caught by ${m.caughtBy}, live; the shipped mechanism runs the same scenario clean`, () => {
      const bad = run(m);
      expect(bad.invariants.checked).toContain(m.caughtBy);
      const v = bad.invariants.violations;
      expect(v.length).toBeGreaterThan(0);
      expect(new Set(v.map((x) => x.invariant))).toEqual(new Set([m.caughtBy]));
      expect(v[0]!.time_ns).toBe(caughtAt[m.id]);
      expect(v[0]!.time_ns).toBeLessThan(bad.simulated_ns);
      expect(run(m, true).invariants.violations).toEqual([]);
    });
  }

  it("vmstat-quiesce/cancel-without-fold is unseen: no invariant fails, but on 4.9 the shepherd queues vmstat_update on the isolated CPUs (noise the shipped mechanism removes)", () => {
    const m = mutants.find((x) => x.id === "vmstat-quiesce/cancel-without-fold")!;
    expect(m.caughtBy).toBeNull();
    const bad = run(m);
    const good = run(m, true);
    expect(bad.invariants.violations).toEqual([]);
    expect(bad.invariants.checked).toEqual(expect.arrayContaining(["vmstat-exact", "vmstat-threshold"]));
    for (const cpu of [1, 2, 3]) {
      expect(bad.cpus[cpu]!.interruptions.kworker_vmstat).toBeGreaterThan(0);
      expect(good.cpus[cpu]!.interruptions.kworker_vmstat).toBe(0);
    }
  });

  it("oneshot-stopped/rearm-stays-stopped: what clockevent-stopped sees is what the kernel loses, the restarted ticks", () => {
    const m = mutants.find((x) => x.id === "oneshot-stopped/rearm-stays-stopped")!;
    const bad = run(m);
    const good = run(m, true);
    expect(bad.invariants.violations[0]!.detail).toMatch(/in state ONESHOT_STOPPED, not ONESHOT: no timer interrupt will come/);
    const ticks = (r: Report): number => r.cpus.slice(1).reduce((n, c) => n + c.interruptions.tick, 0);
    expect(ticks(bad)).toBeLessThan(ticks(good));
  });
});
