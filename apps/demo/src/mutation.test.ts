import { simulate } from "@isolsim/core";
import type { MechanismRegistry, Report } from "@isolsim/core";
import { torture } from "@isolsim/torture";
import type { TortureOptions } from "@isolsim/torture";
import { describe, expect, it } from "vitest";
import { mutantRegistry, mutants } from "./mutants.js";
import type { Mutant } from "./mutants.js";
import { fileLoader } from "./commands/torture.js";
import { registry } from "./registry.js";
import { parseJson, scenarioFromObject } from "./scenario-file.js";

const S = 1_000_000_000;

/**
 * How torture hunts each caught mutant: the fixed seed, the bound on runs, and for the mutants whose
 * invariant has a bound of a second (the remote tick's HZ jiffies; the RCU callback invocation
 * bound) a duration floor, since no shorter run can violate it, and fewer shrinking runs (each one
 * simulates seconds). `foundAt` is the run (0-based)
 * that found it: docs/torture.md's mutation table quotes these.
 */
const hunts: Record<string, { seed: number; runs: number; foundAt: number; minDurationNs?: number; maxDurationNs?: number; shrinkRuns?: number }> = {
  "remote-stats/skip-work": { seed: 6, runs: 10, foundAt: 0, minDurationNs: 1.2 * S, maxDurationNs: 2 * S, shrinkRuns: 30 },
  "remote-stats/no-requeue": { seed: 6, runs: 10, foundAt: 4, minDurationNs: 2.1 * S, maxDurationNs: 2.5 * S, shrinkRuns: 30 },
  "lru-spinlock-drain/drainer-skips-lock": { seed: 1, runs: 50, foundAt: 7 },
  "lru-spinlock-drain/owner-skips-lock": { seed: 1, runs: 50, foundAt: 7 },
  "vmstat-quiesce/fold-drops-diffs": { seed: 1, runs: 50, foundAt: 2 },
  "vmstat-quiesce/fold-keeps-diffs": { seed: 1, runs: 50, foundAt: 2 },
  "tlb-defer/skip-flush": { seed: 3, runs: 100, foundAt: 9 },
  "tlb-defer/defer-in-kernel": { seed: 1, runs: 50, foundAt: 7 },
  "rcu-nocb-merge/drop-callback": { seed: 6, runs: 10, foundAt: 0, minDurationNs: 1.2 * S, maxDurationNs: 2 * S, shrinkRuns: 30 },
  "rcu-nocb-merge/invoke-twice": { seed: 1, runs: 50, foundAt: 3 },
  "oneshot-stopped/leave-armed": { seed: 1, runs: 50, foundAt: 0 },
  "oneshot-stopped/stop-reports-error": { seed: 1, runs: 50, foundAt: 0 },
  "oneshot-stopped/rearm-stays-stopped": { seed: 1, runs: 50, foundAt: 1 },
};

/** `isolsim run` of a saved scenario file with the registry `reg`: JSON text in, the report out. */
function runFile(text: string, reg: MechanismRegistry): Report {
  const obj = parseJson(text) as { name?: string };
  const spec = scenarioFromObject(obj, obj.name !== undefined ? { registry: reg, name: obj.name } : { registry: reg });
  return simulate(spec, { registry: reg }).report;
}

/** torture restricted to the mutant's mechanism, with the loader of `isolsim torture` so what it saves runs as a file would. */
function hunt(m: Mutant): ReturnType<typeof torture> {
  const h = hunts[m.id]!;
  const reg = mutantRegistry(m);
  const opts: TortureOptions = {
    seed: h.seed,
    runs: h.runs,
    registry: reg,
    mechanisms: [{ name: m.mechanism }],
    firingBudget: 3000,
    shrinkRuns: h.shrinkRuns ?? 100,
    load: fileLoader(reg),
  };
  if (h.minDurationNs !== undefined) opts.minDurationNs = h.minDurationNs;
  if (h.maxDurationNs !== undefined) opts.maxDurationNs = h.maxDurationNs;
  return torture(opts);
}

describe("the mutation check: torture finds every mutant an invariant can see, and its shrunk scenario reproduces it", () => {
  it("hunts every caught mutant, and only those", () => {
    expect(Object.keys(hunts).sort()).toEqual(mutants.filter((m) => m.caughtBy !== null).map((m) => m.id).sort());
  });

  for (const m of mutants.filter((x) => x.caughtBy !== null)) {
    const h = hunts[m.id]!;
    it(`${m.id}: torture --seed ${h.seed} restricted to ${m.mechanism} finds ${m.caughtBy} within ${h.runs} runs`, () => {
      const result = hunt(m);
      const f = result.failure;
      expect(f).not.toBeNull();
      expect(f!.invariant).toBe(m.caughtBy);
      expect(f!.run).toBe(h.foundAt);
      expect(result.runs).toBe(h.foundAt + 1);
      // The shrunk scenario is no bigger than the one generated, and still violates the same invariant.
      expect(f!.scenario.workload.length).toBeLessThanOrEqual(f!.original.workload.length);
      expect(f!.scenario.kernel.cpus).toBeLessThanOrEqual(f!.original.kernel.cpus);
      expect(f!.report.invariants.violations.some((v) => v.invariant === m.caughtBy)).toBe(true);
      // Saved and run again with the mutant, it reproduces the violation byte for byte.
      const file = JSON.stringify(f!.scenario, null, 2);
      const again = runFile(file, mutantRegistry(m));
      expect(again.invariants.violations.some((v) => v.invariant === m.caughtBy)).toBe(true);
      expect(again.digest).toBe(f!.report.digest);
      expect(JSON.stringify(again)).toBe(JSON.stringify(f!.report));
      // The mechanism as shipped runs the same file clean: the violation is the mutant's.
      expect(runFile(file, registry).invariants.violations).toEqual([]);
    }, 60_000);
  }
});
