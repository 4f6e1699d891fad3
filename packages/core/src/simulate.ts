import type { Nanoseconds } from "./engine/engine.js";
import { Kernel } from "./kernel.js";
import { CpuMask } from "./machine/cpumask.js";
import { CpuListError } from "./machine/cpumask.js";
import { CmdlineError, parseKernelCmdline } from "./machine/cmdline.js";
import type { BootParams } from "./machine/cmdline.js";
import { housekeepingSetup } from "./machine/housekeeping.js";
import { mergeMechanismEntries, resolveMechanisms } from "./mechanism.js";
import type { Mechanism, MechanismRegistry } from "./mechanism.js";
import { InputError, defaultParams, resolveParams } from "./params.js";
import { checkFairServerBandwidth } from "./sched/deadline.js";
import type { Params } from "./params.js";
import { getPreset } from "./presets/index.js";
import type { ScenarioSpec } from "./scenario.js";
import { validateScenario } from "./scenario.js";
import type { TraceSink } from "./trace.js";
import { workloadInstallers } from "./workload/workload.js";
import { buildReport } from "./report.js";
import type { Report } from "./report.js";

/** Options of a simulation beyond the scenario. */
export interface SimulateOptions {
  /** Known mechanisms by name, to resolve the scenario's and the preset's entries. */
  registry?: MechanismRegistry;
  /** Mechanism values to use instead of resolving names (composition in code). */
  mechanisms?: readonly Mechanism[];
  /** Where trace records go. */
  trace?: TraceSink | null;
  /** Called as simulated time advances (simulated ns so far, total). */
  onProgress?: (doneNs: Nanoseconds, totalNs: Nanoseconds) => void;
}

/** A finished simulation: the kernel (for inspection) and the contract's report. */
export interface SimulationResult {
  /** The kernel after the run. */
  kernel: Kernel;
  /** The report (contract shape). */
  report: Report;
}

/** Re-throws a cpu-list or command-line error as an InputError with the scenario's field path. */
function asInput<T>(field: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CpuListError || e instanceof CmdlineError || e instanceof RangeError) {
      const prefix = `${field}: `;
      throw new InputError(field, e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message);
    }
    throw e;
  }
}

/**
 * kernel/sched/core.c sched_rt_global_validate(): an RT runtime longer than its period is -EINVAL.
 * Checked on the resolved parameters, so the two may be given in either order.
 */
function checkRtBandwidth(params: Params, given: Record<string, unknown>, field = "kernel.params"): void {
  if (params.schedRtRuntimeNs <= params.schedRtPeriodNs) return;
  const name = "sched_rt_runtime_ns" in given ? "sched_rt_runtime_ns" : "sched_rt_period_ns";
  throw new InputError(
    `${field}.${name}`,
    `runtime ${params.schedRtRuntimeNs} ns exceeds period ${params.schedRtPeriodNs} ns (valid: sched_rt_runtime_ns -1 (off) or at most sched_rt_period_ns, as sched_rt_global_validate() requires)`,
  );
}

/**
 * The boot options that set a switch (`pti=`/`nopti`, `qpw=`) override the preset's value; given
 * also in `kernel.params` with another value, they contradict each other (the rule of `kernel.hz`
 * and `kernel.params.hz`): an InputError naming `kernel.params.<name>`.
 */
function applyBootSwitches(params: Params, boot: BootParams, overrides: Record<string, unknown>): void {
  for (const key of ["pti", "qpw"] as const) {
    const value = boot[key];
    if (value === undefined) continue;
    if (Object.hasOwn(overrides, key) && overrides[key] !== value) {
      throw new InputError(
        `kernel.params.${key}`,
        `${String(overrides[key])} conflicts with kernel.cmdline, which sets ${key} ${value ? "on" : "off"} (valid: give ${key} once, or the same value in both)`,
      );
    }
    params[key] = value;
  }
}

/** Parses a workload or kernel cpu list against the machine, naming the field in errors. */
export function parseCpus(list: string, nrCpus: number, field: string): CpuMask {
  return asInput(field, () => CpuMask.parse(list, nrCpus, field));
}

/**
 * Builds the kernel a scenario describes, with its workload installed, booted at time 0. The whole
 * spec is checked first (validateScenario(): types and ranges from the limits table, conflicts),
 * then what resolving finds (preset, parameters, CPU lists, mechanisms); an InputError names the field.
 */
export function buildKernel(spec: ScenarioSpec, opts: SimulateOptions = {}): Kernel {
  validateScenario(spec);
  const ks = spec.kernel;
  const preset = getPreset(ks.preset);
  const base = { ...defaultParams, ...preset.params };
  if (ks.hz !== undefined) base.hz = ks.hz;
  const params = resolveParams(base, ks.params);
  checkRtBandwidth(params, ks.params ?? {});
  checkFairServerBandwidth(params, ks.params ?? {});
  let boot: BootParams;
  if (ks.cmdline !== undefined) boot = asInput("kernel.cmdline", () => parseKernelCmdline(ks.cmdline!, ks.cpus));
  else {
    boot = { unknown: [] };
    if (ks.nohzFull !== undefined && ks.nohzFull !== "") boot.nohzFull = parseCpus(ks.nohzFull, ks.cpus, "kernel.nohz_full");
  }
  applyBootSwitches(params, boot, ks.params ?? {});
  const housekeeping = asInput(ks.cmdline !== undefined ? "kernel.cmdline" : "kernel.nohz_full", () => housekeepingSetup(boot, ks.cpus));
  const mechanisms = opts.mechanisms ?? resolveMechanisms(mergeMechanismEntries(preset.mechanisms, ks.mechanisms ?? []), opts.registry ?? {});
  const k = new Kernel({
    nrCpus: ks.cpus,
    housekeeping,
    params,
    mechanisms,
    seed: spec.seed,
    warmup: spec.warmup,
    preset: preset.name,
    trace: opts.trace ?? null,
  });
  const order = ["user-loop"];
  const items = spec.workload.map((w, i) => ({ w, i })).sort((a, b) => Number(!order.includes(a.w.type)) - Number(!order.includes(b.w.type)) || a.i - b.i);
  for (const { w, i } of items) {
    const field = `workload[${i}]`;
    const install = workloadInstallers.get(w.type);
    if (!install) throw new InputError(`${field}.type`, `workload type "${w.type}" is not modelled yet (valid: ${[...workloadInstallers.keys()].join(", ")})`);
    const cpus = parseCpus(w.cpus, ks.cpus, `${field}.cpus`).toArray();
    install(k, w, cpus, field);
  }
  k.boot();
  return k;
}

/** Runs a scenario to its end and builds the report. */
export function simulate(spec: ScenarioSpec, opts: SimulateOptions = {}): SimulationResult {
  const k = buildKernel(spec, opts);
  const slices = opts.onProgress ? 100 : 1;
  for (let i = 1; i <= slices; i++) {
    const until = i === slices ? spec.duration : Math.floor((spec.duration * i) / slices);
    // The simulated run is [0, duration): an event due exactly at the end is not processed.
    if (i === slices) k.engine.runBefore(until);
    else k.engine.runUntil(until);
    opts.onProgress?.(until, spec.duration);
  }
  k.finish();
  return { kernel: k, report: buildReport(k, spec) };
}
