import { InputError, simulate } from "@isolsim/core";
import type { InvariantId, MechanismRegistry, Report, ScenarioSpec } from "@isolsim/core";
import { cpusOf, listOf } from "./cpulist.js";
import { hazardOf, knownHazards } from "./hazards.js";
import type { KnownHazard } from "./hazards.js";
import { cloneScenario, durationNs, fileDuration, scenarioSpecOf } from "./scenario-object.js";
import type { ScenarioObject } from "./scenario-object.js";

/** Options of {@link shrink}. */
export interface ShrinkOptions {
  /** The most candidate runs (each one simulation) before shrinking stops where it is; default 400. */
  maxRuns?: number;
  /** Configurations no candidate may have (default {@link knownHazards}): a smaller scenario that fails only through a known hazard is not the same failure. */
  avoid?: readonly KnownHazard[];
  /** Turns a scenario object into the spec that runs (default: scenarioSpecOf(); simulate() then checks it as `isolsim run` would). */
  load?: (o: ScenarioObject) => ScenarioSpec;
}

/** What {@link shrink} found. */
export interface ShrinkResult {
  /** The smallest scenario that still violates the invariant. */
  scenario: ScenarioObject;
  /** Its report (the violation listed). */
  report: Report;
  /** Candidates tried. */
  tried: number;
  /** Candidates kept (each one a step smaller). */
  kept: number;
}

/** Whether a report lists a violation of `invariant`. */
export function violates(report: Report, invariant: InvariantId): boolean {
  return report.invariants.violations.some((v) => v.invariant === invariant);
}

/** One run of a scenario object. */
export interface ScenarioRun {
  /** The spec that ran. */
  spec: ScenarioSpec;
  /** Its report. */
  report: Report;
  /** Evaluations per invariant, indexed as the core's invariantIds. */
  evaluations: Float64Array;
  /** Violations per invariant, including those the report does not list. */
  counts: ReadonlyMap<InvariantId, number>;
}

/** Runs a scenario object through `load` and simulate(); null when the object is not a valid scenario. */
export function runScenario(o: ScenarioObject, registry: MechanismRegistry, load?: (o: ScenarioObject) => ScenarioSpec): ScenarioRun | null {
  // simulate() validates the spec and builds the kernel itself: bad input is its InputError.
  try {
    const spec = load ? load(o) : scenarioSpecOf(o);
    const { kernel, report } = simulate(spec, { registry });
    return { spec, report, evaluations: kernel.invariants.evaluations, counts: kernel.invariants.counts };
  } catch (e) {
    if (e instanceof InputError) return null;
    throw e;
  }
}

/** The same scenario on `cpus` CPUs: every CPU list cut to the CPUs below it (items left with none are dropped); null when nothing is left. */
function onFewerCpus(o: ScenarioObject, cpus: number): ScenarioObject | null {
  const nr = o.kernel.cpus;
  const cut = (list: string): string => listOf(cpusOf(list, nr).filter((c) => c < cpus), cpus);
  const c = cloneScenario(o);
  c.kernel.cpus = cpus;
  if (c.kernel.nohz_full !== undefined) c.kernel.nohz_full = cut(c.kernel.nohz_full);
  if (c.kernel.cmdline !== undefined) {
    const nohz = /(?:^| )nohz_full=(\S+)/.exec(c.kernel.cmdline);
    delete c.kernel.cmdline;
    if (nohz) c.kernel.nohz_full = cut(nohz[1]!);
  }
  c.workload = c.workload.map((w) => ({ ...w, cpus: cut(w.cpus) })).filter((w) => w.cpus !== "");
  return c.workload.length ? c : null;
}

/** The nohz_full list of a scenario object, from `nohz_full` or its command line; "" when none. */
function nohzListOf(o: ScenarioObject): string {
  if (o.kernel.nohz_full !== undefined) return o.kernel.nohz_full;
  return /(?:^| )nohz_full=(\S+)/.exec(o.kernel.cmdline ?? "")?.[1] ?? "";
}

/** The same scenario on only the CPUs something names (CPU 0, nohz_full, workload lists), renumbered in order; null when every CPU is named. */
function compacted(o: ScenarioObject): ScenarioObject | null {
  const nr = o.kernel.cpus;
  const used = new Set<number>([0]);
  const nohz = nohzListOf(o);
  const safe = (list: string): number[] => {
    try {
      return cpusOf(list, nr);
    } catch {
      return [];
    }
  };
  for (const c of safe(nohz)) used.add(c);
  for (const w of o.workload) for (const c of safe(w.cpus)) used.add(c);
  if (used.size >= nr) return null;
  const order = [...used].sort((a, b) => a - b);
  const to = new Map(order.map((c, i) => [c, i]));
  const map = (list: string): string => listOf(safe(list).map((c) => to.get(c)!), order.length);
  const c = cloneScenario(o);
  c.kernel.cpus = order.length;
  delete c.kernel.cmdline;
  if (nohz !== "") c.kernel.nohz_full = map(nohz);
  c.workload = c.workload.map((w) => ({ ...w, cpus: map(w.cpus) }));
  return c;
}

/** Every smaller neighbour of `o`, the biggest cuts first: the candidates of one greedy pass; `violationNs` is when the violation happened. */
function* candidates(o: ScenarioObject, violationNs: number): Generator<ScenarioObject> {
  const dur = durationNs(o.duration)!;
  const justAfter = Math.ceil((violationNs + 1) / 1000) * 1000;
  if (justAfter < dur) {
    const c = cloneScenario(o);
    c.duration = fileDuration(justAfter);
    if (c.warmup !== undefined && durationNs(c.warmup)! >= justAfter) delete c.warmup;
    yield c;
  }
  if (o.warmup !== undefined) {
    const c = cloneScenario(o);
    delete c.warmup;
    yield c;
  }
  for (const f of [8, 4, 2]) {
    const ns = Math.floor(dur / f / 1000) * 1000;
    if (ns >= 1000 && ns < dur) {
      const c = cloneScenario(o);
      c.duration = fileDuration(ns);
      if (c.warmup !== undefined && durationNs(c.warmup)! >= ns) delete c.warmup;
      yield c;
    }
  }
  const nr = o.kernel.cpus;
  const compact = compacted(o);
  if (compact) yield compact;
  for (const n of [2, Math.ceil(nr / 2), nr - 1]) {
    if (n >= 1 && n < nr) {
      const c = onFewerCpus(o, n);
      if (c) yield c;
    }
  }
  for (let i = o.workload.length - 1; i >= 0; i--) {
    const c = cloneScenario(o);
    c.workload.splice(i, 1);
    if (c.workload.length) yield c;
  }
  const mechanisms = o.kernel.mechanisms ?? [];
  for (let i = mechanisms.length - 1; i >= 0; i--) {
    const c = cloneScenario(o);
    c.kernel.mechanisms!.splice(i, 1);
    yield c;
  }
  for (let i = 0; i < mechanisms.length; i++) {
    const m = mechanisms[i]!;
    if (typeof m === "string") continue;
    const c = cloneScenario(o);
    c.kernel.mechanisms![i] = m.variant !== undefined && m.options === undefined ? m.name : { name: m.name, ...(m.variant !== undefined ? { variant: m.variant } : {}) };
    if (JSON.stringify(c.kernel.mechanisms![i]) !== JSON.stringify(m)) yield c;
  }
  if (o.kernel.params !== undefined) {
    for (const key of Object.keys(o.kernel.params)) {
      const c = cloneScenario(o);
      delete c.kernel.params![key];
      if (!Object.keys(c.kernel.params!).length) delete c.kernel.params;
      yield c;
    }
  }
  if (o.kernel.hz !== undefined) {
    const c = cloneScenario(o);
    delete c.kernel.hz;
    yield c;
  }
  if (o.kernel.cmdline !== undefined) {
    const c = cloneScenario(o);
    delete c.kernel.cmdline;
    if (nohzListOf(o) !== "") c.kernel.nohz_full = nohzListOf(o);
    yield c;
  }
  if (o.kernel.nohz_full !== undefined && o.kernel.nohz_full !== listOf(cpusOf(o.kernel.nohz_full, nr), nr)) {
    const c = cloneScenario(o);
    c.kernel.nohz_full = listOf(cpusOf(o.kernel.nohz_full, nr), nr);
    yield c;
  }
  if (o.kernel.nohz_full !== undefined && cpusOf(o.kernel.nohz_full, nr).length > 1) {
    for (const drop of cpusOf(o.kernel.nohz_full, nr)) {
      const c = cloneScenario(o);
      c.kernel.nohz_full = listOf(cpusOf(o.kernel.nohz_full, nr).filter((x) => x !== drop), nr);
      yield c;
    }
  }
  for (let i = 0; i < o.workload.length; i++) {
    const w = o.workload[i]!;
    for (const key of ["jitter", "at", "pages", "tasks", "attach", "pcp"]) {
      if (w[key] === undefined || (key === "pages" && w.type === "vmalloc-churn")) continue;
      const c = cloneScenario(o);
      delete c.workload[i]![key];
      yield c;
    }
    const cpus = cpusOf(w.cpus, nr);
    if (cpus.length > 1) {
      for (const keep of [cpus[0]!, cpus[cpus.length - 1]!]) {
        const c = cloneScenario(o);
        c.workload[i]!.cpus = listOf([keep], nr);
        yield c;
      }
      for (const drop of cpus) {
        const c = cloneScenario(o);
        c.workload[i]!.cpus = listOf(cpus.filter((x) => x !== drop), nr);
        yield c;
      }
    } else if (!/^\d+$/.test(w.cpus)) {
      const c = cloneScenario(o);
      c.workload[i]!.cpus = listOf(cpus, nr);
      yield c;
    }
    const every = durationNs(w.every);
    if (every !== null) {
      // Simpler periods: the round value of the same decade, or the next one up.
      const decade = 10 ** Math.floor(Math.log10(every));
      for (const p of [decade, decade * 10]) {
        if (p !== every && p >= 1000) {
          const c = cloneScenario(o);
          c.workload[i]!.every = fileDuration(p);
          yield c;
        }
      }
    }
  }
}

/**
 * Shrinks a scenario that violates `invariant` (rcutorture's job left to a person, done here):
 * greedy passes over its smaller neighbours — shorter duration, no warmup, fewer CPUs, fewer
 * workload items, fewer mechanisms, default variants, fewer parameters, no jitter or `at`, one CPU
 * per item, round periods — keeping a candidate only when it is valid and still violates **the
 * same invariant** and has none of the known hazards (`opts.avoid`), until no candidate is kept (a fixpoint) or `maxRuns` candidates were run.
 * Deterministic: candidates are tried in a fixed order.
 */
export function shrink(scenario: ScenarioObject, invariant: InvariantId, registry: MechanismRegistry, opts: ShrinkOptions = {}): ShrinkResult {
  const maxRuns = opts.maxRuns ?? 400;
  const avoid = opts.avoid ?? knownHazards;
  const first = runScenario(scenario, registry, opts.load);
  if (!first || !violates(first.report, invariant)) {
    throw new Error(`shrink: the scenario ${scenario.name} does not violate ${invariant}`);
  }
  let best = cloneScenario(scenario);
  let report = first.report;
  let tried = 0;
  let kept = 0;
  for (let progress = true; progress && tried < maxRuns; ) {
    progress = false;
    const at = report.invariants.violations.find((v) => v.invariant === invariant)!.time_ns;
    for (const c of candidates(best, at)) {
      if (tried >= maxRuns) break;
      if (hazardOf(c, avoid) !== null) continue;
      tried++;
      const r = runScenario(c, registry, opts.load);
      if (r && violates(r.report, invariant)) {
        best = c;
        report = r.report;
        kept++;
        progress = true;
        break;
      }
    }
  }
  return { scenario: best, report, tried, kept };
}
