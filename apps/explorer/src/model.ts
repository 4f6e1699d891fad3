/**
 * The explorer's pure model: the kernel form over a scenario object, the per-CPU noise bars by
 * source, the isolated CPUs' sums beside the baseline's. No DOM here; unit-tested in Node.
 */
import type { CpuReport, Report } from "@isolsim/core";

/** A mechanism the form has switched on, with the variant picked (absent: the package's default). */
export interface MechanismChoice {
  /** Mechanism name, as `isolsim mechanisms` lists it. */
  name: string;
  /** Variant name; absent for the default or a mechanism without variants. */
  variant?: string;
}

/** What the kernel form edits of a scenario: the rest of the scenario is kept as loaded. */
export interface KernelForm {
  /** `kernel.preset`. */
  preset: string;
  /** `kernel.cpus`. */
  cpus: number;
  /** `kernel.nohz_full`, in bitmap_parselist() syntax. */
  nohzFull: string;
  /** `kernel.mechanisms`, in the order of the mechanism list. */
  mechanisms: MechanismChoice[];
}

type Json = Record<string, unknown>;

const asObject = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});

/** Reads the form's fields from a scenario object (snake_case, as files write it); the preset defaults to `fallbackPreset`. */
export function formOf(scenario: unknown, fallbackPreset: string): KernelForm {
  const k = asObject(asObject(scenario).kernel);
  const mechanisms: MechanismChoice[] = [];
  for (const m of Array.isArray(k.mechanisms) ? k.mechanisms : []) {
    if (typeof m === "string") mechanisms.push({ name: m });
    else if (m && typeof m === "object" && typeof (m as Json).name === "string") {
      const e = m as Json;
      mechanisms.push(typeof e.variant === "string" ? { name: e.name as string, variant: e.variant } : { name: e.name as string });
    }
  }
  return {
    preset: typeof k.preset === "string" ? k.preset : fallbackPreset,
    cpus: typeof k.cpus === "number" ? k.cpus : 0,
    nohzFull: typeof k.nohz_full === "string" ? k.nohz_full : "",
    mechanisms,
  };
}

/**
 * The scenario with the form's fields written into `kernel`: a mechanism entry the scenario had
 * keeps its `options`; `nohz_full` replaces a `cmdline` only when the form's list is not empty.
 */
export function withForm(scenario: unknown, form: KernelForm): Json {
  const s = { ...asObject(scenario) };
  const k = { ...asObject(s.kernel) };
  const before = new Map<string, Json>();
  for (const m of Array.isArray(k.mechanisms) ? k.mechanisms : []) {
    if (m && typeof m === "object" && typeof (m as Json).name === "string") before.set((m as Json).name as string, m as Json);
  }
  k.preset = form.preset;
  k.cpus = form.cpus;
  if (form.nohzFull !== "" || k.cmdline === undefined) {
    k.nohz_full = form.nohzFull;
    delete k.cmdline;
  }
  k.mechanisms = form.mechanisms.map((m) => {
    const options = before.get(m.name)?.options;
    if (m.variant === undefined && options === undefined) return m.name;
    const e: Json = { name: m.name };
    if (m.variant !== undefined) e.variant = m.variant;
    if (options !== undefined) e.options = options;
    return e;
  });
  s.kernel = k;
  return s;
}

/** The same scenario without mechanisms of its own (the preset's stay): `isolsim compare`'s baseline. */
export function baselineOf(scenario: unknown): Json {
  const s = { ...asObject(scenario) };
  s.kernel = { ...asObject(s.kernel), mechanisms: [] };
  return s;
}

/** One bar of the noise chart: a CPU, or a run of consecutive CPUs of the same kind when there are many. */
export interface Bar {
  /** `CPU 3` or `CPUs 8-15`. */
  label: string;
  /** First CPU of the bar. */
  first: number;
  /** Last CPU of the bar. */
  last: number;
  /** Whether the bar's CPUs are nohz_full. */
  isolated: boolean;
  /** Interruptions per source, summed over the bar's CPUs (events delivered, never estimated). */
  counts: Record<string, number>;
}

/**
 * Per-CPU bars of interruptions by source. With more CPUs than `maxBars`, consecutive CPUs of the
 * same kind (isolated or not) share a bar that sums their counts, so 1024 CPUs draw as at most
 * about `maxBars` bars and the chart stays responsive.
 */
export function noiseBars(cpus: readonly CpuReport[], maxBars = 64): Bar[] {
  const per = Math.max(1, Math.ceil(cpus.length / maxBars));
  const bars: Bar[] = [];
  let i = 0;
  while (i < cpus.length) {
    const first = cpus[i]!;
    let j = i + 1;
    while (j < cpus.length && j - i < per && cpus[j]!.isolated === first.isolated) j++;
    const counts: Record<string, number> = {};
    for (const key of Object.keys(first.interruptions)) counts[key] = 0;
    for (let c = i; c < j; c++) for (const [key, n] of Object.entries(cpus[c]!.interruptions)) counts[key] = (counts[key] ?? 0) + n;
    const last = cpus[j - 1]!.cpu;
    bars.push({ label: j - i === 1 ? `CPU ${first.cpu}` : `CPUs ${first.cpu}-${last}`, first: first.cpu, last, isolated: first.isolated, counts });
    i = j;
  }
  return bars;
}

/** The interruption sources of a report, in the report's key order. */
export function sourcesOf(report: Report): string[] {
  return Object.keys(report.cpus[0]?.interruptions ?? {});
}

/** Interruptions per source summed over the isolated CPUs, and their total noise. */
export interface IsolatedSums {
  /** Number of isolated CPUs. */
  cpus: number;
  /** Count per source. */
  counts: Record<string, number>;
  /** Σ noise_ns over isolated CPUs. */
  noiseNs: number;
  /** Largest max_single_noise_ns of an isolated CPU. */
  maxSingleNs: number;
}

/** Sums a report's interruptions over its isolated CPUs. */
export function isolatedSums(report: Report): IsolatedSums {
  const counts: Record<string, number> = {};
  for (const key of sourcesOf(report)) counts[key] = 0;
  let cpus = 0;
  let noiseNs = 0;
  let maxSingleNs = 0;
  for (const c of report.cpus) {
    if (!c.isolated) continue;
    cpus++;
    noiseNs += c.noise_ns;
    maxSingleNs = Math.max(maxSingleNs, c.max_single_noise_ns);
    for (const [key, n] of Object.entries(c.interruptions)) counts[key] = (counts[key] ?? 0) + n;
  }
  return { cpus, counts, noiseNs, maxSingleNs };
}

/** One row of the difference table: a source (or `noise_ns`), this run, the baseline, the change. */
export interface DiffRow {
  /** Interruptions key, `noise_ns` or `max_single_noise_ns`. */
  key: string;
  /** This run's value over isolated CPUs. */
  value: number;
  /** The baseline's value. */
  baseline: number;
  /** value − baseline. */
  delta: number;
}

/** The isolated CPUs' counts and noise of a run beside its baseline (the same scenario without mechanisms of its own). */
export function differenceFromBaseline(run: Report, baseline: Report): DiffRow[] {
  const a = isolatedSums(run);
  const b = isolatedSums(baseline);
  const rows: DiffRow[] = sourcesOf(run).map((key) => ({ key, value: a.counts[key] ?? 0, baseline: b.counts[key] ?? 0, delta: (a.counts[key] ?? 0) - (b.counts[key] ?? 0) }));
  rows.push({ key: "noise_ns", value: a.noiseNs, baseline: b.noiseNs, delta: a.noiseNs - b.noiseNs });
  rows.push({ key: "max_single_noise_ns", value: a.maxSingleNs, baseline: b.maxSingleNs, delta: a.maxSingleNs - b.maxSingleNs });
  return rows;
}

/**
 * Checks that a value looks like an `isolsim run --json` report (an object with `cpus`, each with
 * `cpu`, `isolated` and `interruptions`); returns a message naming what is missing, or null.
 */
export function reportProblem(v: unknown): string | null {
  const r = asObject(v);
  if (Array.isArray(v)) return "a JSON array (isolsim compare --json) is not a report (valid: the object isolsim run --json prints)";
  if (!Array.isArray(r.cpus) || r.cpus.length === 0) return "cpus: missing or empty (valid: the object isolsim run --json prints)";
  for (let i = 0; i < r.cpus.length; i++) {
    const c = asObject(r.cpus[i]);
    if (typeof c.cpu !== "number") return `cpus[${i}].cpu: missing (valid: a CPU number)`;
    if (typeof c.isolated !== "boolean") return `cpus[${i}].isolated: missing (valid: true or false)`;
    if (typeof c.noise_ns !== "number" || typeof c.max_single_noise_ns !== "number") return `cpus[${i}].noise_ns: missing (valid: ns)`;
    if (Object.keys(asObject(c.interruptions)).length === 0) return `cpus[${i}].interruptions: missing (valid: counts per source)`;
  }
  return null;
}
