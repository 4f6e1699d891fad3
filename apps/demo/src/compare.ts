import { CompositionError, buildKernel, simulate } from "@isolsim/core";
import type { MechanismEntry, MechanismRegistry, ScenarioSpec } from "@isolsim/core";
import type { ComparisonEntry, SkippedConfig } from "@isolsim/report";
import { fromInputError } from "./problems.js";

/** A configuration of `isolsim compare`: a name, a preset and the mechanisms composed on it. */
export interface CompareConfig {
  /** `baseline`, a mechanism's name, or `all` (prefixed `preset/` when several presets). */
  config: string;
  /** Preset it runs under. */
  preset: string;
  /** Mechanism entries replacing the scenario's kernel.mechanisms. */
  mechanisms: MechanismEntry[];
  /** Configuration it is measured against. */
  baseline: string;
}

/**
 * The configurations of a comparison, per preset: `baseline` (the preset's own mechanisms), each
 * known mechanism alone (with the scenario's variant and options when it lists it), then `all`.
 */
export function compareConfigs(spec: ScenarioSpec, registry: MechanismRegistry, presets: readonly string[]): CompareConfig[] {
  const own = new Map((spec.kernel.mechanisms ?? []).map((e) => [e.name, e] as const));
  const entries = Object.keys(registry).map((name) => own.get(name) ?? { name });
  const out: CompareConfig[] = [];
  for (const preset of presets) {
    const prefix = presets.length > 1 ? `${preset}/` : "";
    const baseline = `${prefix}baseline`;
    out.push({ config: baseline, preset, mechanisms: [], baseline });
    for (const e of entries) out.push({ config: `${prefix}${e.name}`, preset, mechanisms: [e], baseline });
    if (entries.length > 1) out.push({ config: `${prefix}all`, preset, mechanisms: entries, baseline });
  }
  return out;
}

/** The scenario of one configuration. */
export function configScenario(spec: ScenarioSpec, c: CompareConfig): ScenarioSpec {
  return { ...spec, kernel: { ...spec.kernel, preset: c.preset, mechanisms: c.mechanisms } };
}

/** Output form of an entry: a name alone when it has no variant or options. */
const entryOut = (e: MechanismEntry): string | MechanismEntry => (e.variant === undefined && e.options === undefined ? e.name : e);

/**
 * Runs every configuration; a configuration whose mechanisms cannot be composed is skipped with
 * the composition error as its reason. `onProgress` gets the simulated ns done over all runs.
 */
export function runComparison(
  spec: ScenarioSpec,
  configs: readonly CompareConfig[],
  registry: MechanismRegistry,
  onProgress?: (done: number, total: number) => void,
): { entries: ComparisonEntry[]; skipped: SkippedConfig[]; crashed: CrashedConfig[] } {
  const runnable: CompareConfig[] = [];
  const skipped: SkippedConfig[] = [];
  const crashed: CrashedConfig[] = [];
  for (const c of configs) {
    try {
      buildKernel(configScenario(spec, c), { registry });
      runnable.push(c);
    } catch (e) {
      if (e instanceof CompositionError) skipped.push({ config: c.config, reason: fromInputError(e).message });
      else crashed.push(crashOf(c, e));
    }
  }
  const total = runnable.length * spec.duration;
  const entries: ComparisonEntry[] = [];
  runnable.forEach((c, i) => {
    const opts = onProgress ? { registry, onProgress: (done: number) => onProgress(i * spec.duration + done, total) } : { registry };
    try {
      const { report } = simulate(configScenario(spec, c), opts);
      entries.push({ config: c.config, mechanisms: c.mechanisms.map(entryOut), report, baseline: c.baseline });
    } catch (e) {
      crashed.push(crashOf(c, e));
    }
  });
  return { entries, skipped, crashed };
}

/** A configuration that crashed (an internal error of isolsim), with how to run it alone. */
export interface CrashedConfig {
  /** Configuration name. */
  config: string;
  /** What was thrown. */
  error: unknown;
  /** Options of `isolsim run FILE` that run this configuration alone. */
  reproduce: string[];
}

function crashOf(c: CompareConfig, error: unknown): CrashedConfig {
  const mech = c.mechanisms.map((m) => (m.variant !== undefined ? `${m.name}:${m.variant}` : m.name)).join(",");
  return { config: c.config, error, reproduce: ["--preset", c.preset, "--mechanisms", mech] };
}
