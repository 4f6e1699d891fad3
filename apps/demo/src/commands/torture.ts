import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError, getPreset, resolveMechanisms } from "@isolsim/core";
import type { MechanismEntry, MechanismRegistry, ScenarioSpec } from "@isolsim/core";
import { formatTortureTable, torture } from "@isolsim/torture";
import type { ScenarioObject, TortureOptions, TortureResult } from "@isolsim/torture";
import { Exit } from "../exit.js";
import { BadInput, collect } from "../problems.js";
import type { Problem } from "../problems.js";
import { DURATION_HELP, parseDuration, scenarioFromObject } from "../scenario-file.js";
import { inertJson, show } from "../show.js";
import { UsageError } from "./command.js";
import type { Command } from "./command.js";
import { parseMechanismList, parseSeedOption, progressFor, shellWord } from "./common.js";

/** Where a shrunk failure is saved when `--out` is not given. */
export const DEFAULT_TORTURE_OUT = "torture-failures";

/** Most runs `--runs` takes: a day of runs at the rate measured here. */
export const MAX_TORTURE_RUNS = 1_000_000;

/** Parses `--runs N`: an integer 1-{@link MAX_TORTURE_RUNS}. */
export function parseRunsOption(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > MAX_TORTURE_RUNS) throw new UsageError(`--runs: ${show(s)} is not valid (valid: an integer 1-${MAX_TORTURE_RUNS})`);
  return n;
}

/**
 * The scenario loader of `isolsim run` for objects: the spec torture runs is the one the saved file
 * gives, so `isolsim run FILE` reproduces the violation byte for byte. Bad input becomes the core's
 * InputError (the torture skips such a shrinking candidate).
 */
export function fileLoader(registry: MechanismRegistry): (o: ScenarioObject) => ScenarioSpec {
  return (o) => {
    try {
      return scenarioFromObject(o, { registry, name: o.name });
    } catch (e) {
      if (e instanceof BadInput) throw new InputError("(scenario)", e.message);
      throw e;
    }
  };
}

/** `--mechanisms` and `--preset` checked against the registry and the presets (exit 2 naming the option). */
function checkFixed(registry: MechanismRegistry, mechanisms: readonly MechanismEntry[] | undefined, preset: string | undefined): void {
  const problems: Problem[] = [];
  if (preset !== undefined) {
    collect(problems, () => getPreset(preset, "--preset"));
  }
  if (mechanisms !== undefined) {
    mechanisms.forEach((m, i) => {
      const found: Problem[] = [];
      collect(found, () => resolveMechanisms([m], registry, "--mechanisms"));
      for (const p of found) problems.push({ field: p.field.replace(/^--mechanisms\[0\]/, `--mechanisms[${i}]`), message: p.message });
    });
  }
  if (problems.length) throw new BadInput(problems);
}

/** The `--json` output of a torture: totals, the table's rows and the saved failure. */
function jsonOf(r: TortureResult, file: string | null): object {
  return {
    seed: r.seed,
    runs: r.runs,
    simulated_ns: r.simulatedNs,
    events: r.events,
    invariants: r.invariants.map((t) => ({ invariant: t.invariant, runs: t.runs, evaluations: t.evaluations, violations: t.violations })),
    failure: r.failure && {
      invariant: r.failure.invariant,
      run: r.failure.run,
      file,
      command: `isolsim run ${shellWord(file ?? "")}`,
      shrink_candidates: r.failure.tried,
      shrink_steps: r.failure.kept,
      violation: r.failure.report.invariants.violations.find((v) => v.invariant === r.failure!.invariant),
    },
  };
}

/** `isolsim torture`: random kernels and workloads, every invariant checked, a violation shrunk to a scenario file. */
export const tortureCommand: Command = {
  options: {
    seed: { type: "string" },
    runs: { type: "string" },
    duration: { type: "string" },
    mechanisms: { type: "string" },
    preset: { type: "string" },
    out: { type: "string" },
    json: { type: "boolean" },
    "known-hazards": { type: "boolean" },
  },
  positionals: { min: 0, max: 0, usage: "no FILE (torture generates its scenarios)" },
  run({ values: v, io, registry }) {
    if (v.runs !== undefined && v.duration !== undefined) throw new UsageError("--runs and --duration: give one of them (valid: --runs N, or --duration D of simulated time in total)");
    const opts: TortureOptions = { seed: typeof v.seed === "string" ? parseSeedOption(v.seed) : 1, registry, load: fileLoader(registry) };
    if (typeof v.runs === "string") opts.runs = parseRunsOption(v.runs);
    if (typeof v.duration === "string") {
      const ns = parseDuration(/^\d+$/.test(v.duration) ? Number(v.duration) : v.duration);
      if (!ns) throw new UsageError(`--duration: ${show(v.duration)} is not valid (valid: a positive duration of simulated time in total: ${DURATION_HELP})`);
      opts.durationNs = ns;
    }
    if (typeof v.mechanisms === "string") opts.mechanisms = parseMechanismList(v.mechanisms);
    if (typeof v.preset === "string") opts.preset = v.preset;
    if (v["known-hazards"] === true) opts.avoid = [];
    checkFixed(registry, opts.mechanisms, opts.preset);
    const out = typeof v.out === "string" ? v.out : DEFAULT_TORTURE_OUT;
    const json = v.json === true;
    const progress = progressFor(io, json, "torture");
    opts.onRun = (p) => (p.plannedRuns ? progress.update(p.runs, p.plannedRuns) : progress.update(Math.min(p.simulatedNs, p.plannedNs), p.plannedNs));
    opts.onShrink = (invariant, s) => {
      progress.stop();
      io.stderr.write(`isolsim torture: ${invariant} violated by ${s.name}; shrinking it\n`);
    };
    let result: TortureResult;
    try {
      result = torture(opts);
    } finally {
      progress.stop();
    }
    let file: string | null = null;
    if (result.failure) {
      try {
        mkdirSync(out, { recursive: true });
        file = join(out, `${result.failure.scenario.name}.json`);
        writeFileSync(file, JSON.stringify(result.failure.scenario, null, 2) + "\n");
      } catch (e) {
        throw new UsageError(`--out: cannot write into ${show(out)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (valid: a directory torture may create and write)`);
      }
    }
    if (json) io.stdout.write(inertJson(jsonOf(result, file)) + "\n");
    else {
      io.stdout.write(formatTortureTable(result));
      if (file) io.stdout.write(`minimal scenario saved: ${file}\nreproduce: isolsim run ${shellWord(file)}\n`);
    }
    return result.failure ? Exit.violated : Exit.ok;
  },
};
