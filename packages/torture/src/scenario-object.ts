import { InputError } from "@isolsim/core";
import type { KernelSpec, MechanismEntry, ScenarioSpec, WorkloadSpec } from "@isolsim/core";

/** A duration as a scenario file writes it: an integer of ns, or a string with unit (`"250us"`). */
export type FileDuration = number | string;

/** The fields every workload item has. */
export interface WorkloadBase {
  /** Workload type. */
  type: WorkloadSpec["type"];
  /** CPU list. */
  cpus: string;
}

/** One workload item as a scenario file writes it (contract: `workload[]`), durations as {@link FileDuration}. */
export type WorkloadObject = WorkloadBase & Record<string, unknown>;

/** The `kernel` object of a scenario file (snake_case, as the contract writes it). */
export interface KernelObject {
  /** Preset name. */
  preset: string;
  /** Number of CPUs. */
  cpus: number;
  /** CONFIG_HZ; the preset's when absent. */
  hz?: number;
  /** The `nohz_full=` CPU list. */
  nohz_full?: string;
  /** A kernel command line instead of `nohz_full`. */
  cmdline?: string;
  /** Mechanisms after the preset's: a name, or `{ name, variant?, options? }` with snake_case options. */
  mechanisms?: (string | MechanismEntry)[];
  /** Kernel parameter overrides by snake_case name. */
  params?: Record<string, unknown>;
}

/** A scenario as a file holds it (contract: scenario file): what torture generates, shrinks and saves. */
export interface ScenarioObject {
  /** Scenario name (echoed as the report's `scenario`). */
  name: string;
  /** One sentence. */
  description?: string;
  /** Seed of the scenario's PRNG (workload `jitter`). */
  seed: number;
  /** Simulated time. */
  duration: FileDuration;
  /** Start of the measured window. */
  warmup?: FileDuration;
  /** The machine and kernel. */
  kernel: KernelObject;
  /** What runs. */
  workload: WorkloadObject[];
}

const UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };

/** Writes `ns` as a file duration: the largest unit that divides it (`"250us"`), else an integer of ns. */
export function fileDuration(ns: number): FileDuration {
  for (const unit of ["s", "ms", "us"] as const) {
    const per = UNIT_NS[unit]!;
    if (ns > 0 && ns % per === 0) return `${ns / per}${unit}`;
  }
  return ns;
}

/** Reads a file duration as {@link fileDuration} writes it (an integer of ns, or an integer with a unit); null when it is not one. */
export function durationNs(v: unknown): number | null {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v !== "string") return null;
  const m = /^(\d+)(ns|us|ms|s)$/.exec(v);
  if (!m) return null;
  const ns = Number(m[1]) * UNIT_NS[m[2]!]!;
  return Number.isSafeInteger(ns) ? ns : null;
}

/** Workload fields that are durations. */
const DURATION_FIELDS = ["every", "at", "jitter", "run"];

function ns(field: string, v: unknown): number {
  const n = durationNs(v);
  if (n === null) throw new InputError(field, `${JSON.stringify(v)} is not a duration torture writes (valid: an integer of ns or an integer with unit ns, us, ms, s)`);
  return n;
}

/**
 * The core's ScenarioSpec of a scenario object as torture writes it: snake_case to camelCase,
 * durations to ns, mechanism names to entries; the conversion `isolsim run` makes of the same
 * object when it is saved to a file (apps/demo scenario-file.ts; a test there checks they agree).
 * Checks nothing beyond the durations: validateScenario() and buildKernel() do.
 */
export function scenarioSpecOf(o: ScenarioObject): ScenarioSpec {
  const k = o.kernel;
  const kernel: KernelSpec = { preset: k.preset, cpus: k.cpus };
  if (k.hz !== undefined) kernel.hz = k.hz;
  if (k.nohz_full !== undefined) kernel.nohzFull = k.nohz_full;
  if (k.cmdline !== undefined) kernel.cmdline = k.cmdline;
  if (k.mechanisms !== undefined) kernel.mechanisms = k.mechanisms.map((m) => (typeof m === "string" ? { name: m } : { ...m }));
  if (k.params !== undefined) kernel.params = { ...k.params };
  const workload = o.workload.map((w, i) => {
    const item: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(w)) item[key] = DURATION_FIELDS.includes(key) ? ns(`workload[${i}].${key}`, value) : value;
    return item as WorkloadSpec;
  });
  const spec: ScenarioSpec = { name: o.name, seed: o.seed, duration: ns("duration", o.duration), warmup: o.warmup === undefined ? 0 : ns("warmup", o.warmup), kernel, workload };
  if (o.description !== undefined) spec.description = o.description;
  return spec;
}

/** A deep copy of a scenario object (plain JSON data). */
export function cloneScenario(o: ScenarioObject): ScenarioObject {
  return JSON.parse(JSON.stringify(o)) as ScenarioObject;
}
