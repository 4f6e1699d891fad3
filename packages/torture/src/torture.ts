import { invariantIds } from "@isolsim/core";
import type { InvariantId, MechanismEntry, MechanismRegistry, Report, ScenarioSpec } from "@isolsim/core";
import { DEFAULT_FIRING_BUDGET, generateScenario } from "./generate.js";
import { knownHazards } from "./hazards.js";
import type { KnownHazard } from "./hazards.js";
import { runSeed } from "./random.js";
import type { ScenarioObject } from "./scenario-object.js";
import { runScenario, shrink } from "./shrink.js";

/** Options of {@link torture} (`isolsim torture`). */
export interface TortureOptions {
  /** Seed of the whole torture: run `i` is generated from (seed, i) alone. */
  seed: number;
  /** Runs to make (default 100); ignored when {@link durationNs} is given. */
  runs?: number;
  /** Instead of a run count: runs until this much simulated time has been run in total, ns (deterministic, unlike wall time). */
  durationNs?: number;
  /** The mechanisms torture may compose, by name (a test passes one with broken variants). */
  registry: MechanismRegistry;
  /** A fixed mechanism list (`--mechanisms`) instead of a drawn one. */
  mechanisms?: readonly MechanismEntry[];
  /** A fixed preset (`--preset`) instead of a drawn one. */
  preset?: string;
  /** Configurations to generate and shrink around (default {@link knownHazards}; `[]` lets torture find them again). */
  avoid?: readonly KnownHazard[];
  /** Bound on the firings each scenario plans (its size); default {@link DEFAULT_FIRING_BUDGET}. */
  firingBudget?: number;
  /** The longest duration the generator draws, ns (default DEFAULT_MAX_DURATION_NS, 200 ms). */
  maxDurationNs?: number;
  /** The shortest duration, ns, a floor the firing budget does not cut (default 1 ms; see GenerateOptions.minDurationNs). */
  minDurationNs?: number;
  /** The most candidate runs of the shrinker (default 400). */
  shrinkRuns?: number;
  /** Turns a scenario object into the spec that runs (the CLI passes its file loader, so the saved file runs alike). */
  load?: (o: ScenarioObject) => ScenarioSpec;
  /** Called after each run (for a progress line). */
  onRun?: (p: TortureProgress) => void;
  /** Called before shrinking starts. */
  onShrink?: (invariant: InvariantId, scenario: ScenarioObject) => void;
}

/** Where a torture is, after a run. */
export interface TortureProgress {
  /** Runs done. */
  runs: number;
  /** Runs planned (runs mode), or 0 with a simulated-time budget. */
  plannedRuns: number;
  /** Simulated time so far, ns. */
  simulatedNs: number;
  /** Simulated-time budget, ns, or 0 in runs mode. */
  plannedNs: number;
  /** Events so far. */
  events: number;
}

/** One row of the final table: an invariant, how often it was evaluated and violated. */
export interface InvariantTally {
  /** Invariant ID. */
  invariant: InvariantId;
  /** Runs that checked it (listed in the report's `invariants.checked`). */
  runs: number;
  /** Evaluations of its condition over all runs. */
  evaluations: number;
  /** Violations over all runs (every one counted, also those a report does not list). */
  violations: number;
}

/** A violation torture found, shrunk. */
export interface TortureFailure {
  /** The invariant violated (the first violation of the run). */
  invariant: InvariantId;
  /** Which run (0-based). */
  run: number;
  /** The generated scenario that violated it. */
  original: ScenarioObject;
  /** The smallest scenario found that still violates it: what `--out` saves. */
  scenario: ScenarioObject;
  /** The report of {@link scenario}, as `isolsim run --json` prints it for the saved file. */
  report: Report;
  /** Shrinking candidates tried. */
  tried: number;
  /** Shrinking steps kept. */
  kept: number;
}

/** What {@link torture} did: its totals, per invariant, and the failure if one was found. */
export interface TortureResult {
  /** The seed. */
  seed: number;
  /** Runs made (a failure stops the torture). */
  runs: number;
  /** Simulated time over all runs, ns. */
  simulatedNs: number;
  /** Events the engine processed over all runs. */
  events: number;
  /** One row per invariant, in the order of the contract's list. */
  invariants: InvariantTally[];
  /** The first violation, shrunk; null when every run was clean. */
  failure: TortureFailure | null;
}

/**
 * rcutorture for isolsim: generates random machines and workloads (generateScenario()), runs each
 * with every invariant checked, totals runs, simulated time, events, evaluations and violations per
 * invariant, and on the first violation shrinks the scenario to a minimal one that still violates
 * the same invariant and stops. Deterministic: the same options give the same runs and result.
 */
export function torture(opts: TortureOptions): TortureResult {
  const runsWanted = opts.durationNs === undefined ? (opts.runs ?? 100) : Infinity;
  const budgetNs = opts.durationNs ?? Infinity;
  const tally = invariantIds.map((invariant) => ({ invariant, runs: 0, evaluations: 0, violations: 0 }));
  const result: TortureResult = { seed: opts.seed, runs: 0, simulatedNs: 0, events: 0, invariants: tally, failure: null };
  for (let i = 0; i < runsWanted && result.simulatedNs < budgetNs; i++) {
    const gen: Parameters<typeof generateScenario>[1] = { registry: opts.registry, name: `torture-${opts.seed}-${i}`, firingBudget: opts.firingBudget ?? DEFAULT_FIRING_BUDGET };
    if (opts.preset !== undefined) gen.preset = opts.preset;
    if (opts.mechanisms !== undefined) gen.mechanisms = opts.mechanisms;
    if (opts.maxDurationNs !== undefined) gen.maxDurationNs = opts.maxDurationNs;
    if (opts.minDurationNs !== undefined) gen.minDurationNs = opts.minDurationNs;
    gen.avoid = opts.avoid ?? knownHazards;
    const scenario = generateScenario(runSeed(opts.seed, i), gen);
    const run = runScenario(scenario, opts.registry, opts.load);
    if (!run) throw new Error(`torture: generated scenario ${scenario.name} was refused by the loader (a bug of the generator)\n${JSON.stringify(scenario)}`);
    const { report, evaluations, counts } = run;
    result.runs++;
    result.simulatedNs += report.simulated_ns;
    result.events += report.events;
    for (let j = 0; j < tally.length; j++) {
      const t = tally[j]!;
      if (report.invariants.checked.includes(t.invariant)) t.runs++;
      t.evaluations += evaluations[j]!;
      t.violations += counts.get(t.invariant) ?? 0;
    }
    opts.onRun?.({ runs: result.runs, plannedRuns: Number.isFinite(runsWanted) ? runsWanted : 0, simulatedNs: result.simulatedNs, plannedNs: Number.isFinite(budgetNs) ? budgetNs : 0, events: result.events });
    const first = report.invariants.violations[0];
    if (first) {
      opts.onShrink?.(first.invariant, scenario);
      const shrinkOpts: Parameters<typeof shrink>[3] = { maxRuns: opts.shrinkRuns ?? 400, avoid: opts.avoid ?? knownHazards };
      if (opts.load) shrinkOpts.load = opts.load;
      const s = shrink(scenario, first.invariant, opts.registry, shrinkOpts);
      s.scenario.name = `torture-${opts.seed}-${i}-${first.invariant}`;
      const final = runScenario(s.scenario, opts.registry, opts.load)!;
      result.failure = { invariant: first.invariant, run: i, original: scenario, scenario: s.scenario, report: final.report, tried: s.tried, kept: s.kept };
      break;
    }
  }
  return result;
}
