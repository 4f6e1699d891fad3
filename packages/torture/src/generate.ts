import { CompositionError, InputError, buildKernel, presets, syscallNames, validateScenario } from "@isolsim/core";
import type { MechanismEntry, MechanismRegistry, ScenarioSpec } from "@isolsim/core";
import { cpusOf, listOf, randomCpuList } from "./cpulist.js";
import { hazardOf, knownHazards } from "./hazards.js";
import type { KnownHazard } from "./hazards.js";
import { Draw, runSeed } from "./random.js";
import { cloneScenario, durationNs, fileDuration, scenarioSpecOf } from "./scenario-object.js";
import type { KernelObject, ScenarioObject, WorkloadObject } from "./scenario-object.js";

const US = 1_000;
const MS = 1_000_000;

/** What the generator may vary and what it must keep (the `isolsim torture` options). */
export interface GenerateOptions {
  /** The mechanisms torture may compose (their names and variants are read from it). */
  registry: MechanismRegistry;
  /** A fixed preset (`--preset`); drawn from the core's presets when absent. */
  preset?: string;
  /** A fixed mechanism list (`--mechanisms`), replacing the drawn one; variants are kept as given. */
  mechanisms?: readonly MechanismEntry[];
  /** The most workload firings (plus ticks) a scenario may plan, which bounds its events; default {@link DEFAULT_FIRING_BUDGET}. */
  firingBudget?: number;
  /** The scenario's name. */
  name?: string;
  /** The longest duration drawn, ns (default {@link DEFAULT_MAX_DURATION_NS}); the firing budget may cut it shorter. */
  maxDurationNs?: number;
  /**
   * The shortest duration, ns (default 1 ms), a floor the firing budget does not cut: for invariants
   * whose bound is a second (`remote-tick-staleness`: the remote tick's HZ jiffies; `rcu-callbacks-invoked`:
   * its invocation bound), which no shorter run can violate.
   */
  minDurationNs?: number;
  /** Configurations to generate around (default {@link knownHazards}; `[]` lets torture find them again). */
  avoid?: readonly KnownHazard[];
}

/** Default longest duration of a generated scenario: 200 ms (a remote tick or an RCU callback bound of 1 s needs more: see {@link GenerateOptions.maxDurationNs}). */
export const DEFAULT_MAX_DURATION_NS = 200 * MS;

/** Default bound on the firings a generated scenario plans (~1 ms to ~100 ms of run time each). */
export const DEFAULT_FIRING_BUDGET = 6_000;

/** Periods the generator prefers: round values, so items of different periods coincide. */
const ROUND_PERIODS = [10 * US, 20 * US, 50 * US, 100 * US, 250 * US, 500 * US, 1 * MS, 2 * MS, 4 * MS, 10 * MS];

/** Offsets between the two sides of a race: same instant, 1 ns, about one entry step, about a syscall. */
const RACE_OFFSETS = [0, 0, 1, 50, 100, 150, 300, 700, 1_000, 2_000];

/** Parameters the generator varies on every preset: switches whose variants exist in all of them. */
const SWITCHES = ["pti", "qpw", "idle_poll"];

/** The names of the races {@link generateScenario} aims bursts at. */
export const raceKinds = ["flush-at-entry", "drain-while-adding", "tick-stop-with-dependency", "bpf-image-replaced", "callbacks-as-idle", "kernel-holdout"] as const;

/** One race of {@link raceKinds}. */
export type RaceKind = (typeof raceKinds)[number];

/** The CPUs of a machine being generated, by role. */
interface Roles {
  nr: number;
  /** CPUs in nohz_full (as the kernel takes it: without the boot CPU). */
  isolated: number[];
  /** CPUs not in nohz_full. */
  housekeeping: number[];
  /** CPUs with a user-loop task (syscall, kernel-loop and bpf items go there). */
  busy: number[];
}

const periodOf = (d: Draw): number => (d.chance(0.6) ? d.pick(ROUND_PERIODS) : d.logInt(5 * US, 20 * MS));

/** A sub-list of `cpus` (non-empty when `cpus` is), written in the kernel grammar when it is a drawn list, else printed. */
function subset(d: Draw, cpus: readonly number[], nr: number): number[] {
  if (cpus.length <= 1 || d.chance(0.3)) return [...cpus];
  const pickOne = d.chance(0.4);
  if (pickOne) return [d.pick(cpus)];
  const out = cpus.filter(() => d.chance(0.5));
  return out.length ? out : [cpus[0]!];
}

/** Optional `at` and `jitter` of a periodic item. */
function timing(d: Draw, every: number): Record<string, unknown> {
  const o: Record<string, unknown> = { every: fileDuration(every) };
  if (d.chance(0.4)) o.at = fileDuration(d.int(0, 3 * every));
  if (d.chance(0.3)) o.jitter = fileDuration(d.logInt(1, every));
  return o;
}

function randomItem(d: Draw, r: Roles): WorkloadObject | null {
  const type = d.weighted(["syscall", "vmalloc-churn", "lru-drain-all", "wakeup", "kernel-loop", "bpf"], [6, 2, 2, 2, 1, 1]);
  const every = periodOf(d);
  const all = Array.from({ length: r.nr }, (_, i) => i);
  const list = (cpus: readonly number[]): string => listOf(subset(d, cpus, r.nr), r.nr);
  switch (type) {
    case "syscall": {
      if (!r.busy.length) return null;
      const call = d.pick(syscallNames);
      const item: WorkloadObject = { type, cpus: list(r.busy), ...timing(d, every), call };
      if (call !== "getpid" && call !== "call-rcu" && d.chance(0.5)) item.pages = d.logInt(1, 64);
      return item;
    }
    case "vmalloc-churn":
      return { type, cpus: list(d.chance(0.8) ? r.housekeeping : all), ...timing(d, every), pages: d.logInt(1, 16384) };
    case "lru-drain-all": {
      const item: WorkloadObject = { type, cpus: list(d.chance(0.8) ? r.housekeeping : all), ...timing(d, Math.max(every, 100 * US)) };
      if (d.chance(0.3)) item.pcp = d.chance(0.5);
      return item;
    }
    case "wakeup":
      return { type, cpus: list(all), ...timing(d, every), run: fileDuration(d.logInt(1 * US, Math.max(1 * US, every / 4))) };
    case "kernel-loop":
      if (!r.busy.length) return null;
      return { type, cpus: list(r.busy), ...timing(d, Math.max(every, 200 * US)), run: fileDuration(d.logInt(1 * US, 2 * MS)) };
    case "bpf": {
      if (!r.busy.length) return null;
      const item: WorkloadObject = { type, cpus: list(r.busy), ...timing(d, Math.max(every, 100 * US)) };
      if (d.chance(0.5)) item.attach = d.pick(["sys_enter", "kprobe"]);
      // Large images reach lazy_max_pages within a run: purges, flushes, re-mapped pages.
      if (d.chance(0.5)) item.pages = d.logInt(1, 4096);
      return item;
    }
  }
  return null;
}

/**
 * Items that make two sides of a race coincide: the same period, first firings `offset` ns apart,
 * with the workload vocabulary the contract has (aligned `at`/`every`).
 */
function race(d: Draw, kind: RaceKind, r: Roles): WorkloadObject[] {
  const period = d.pick(ROUND_PERIODS.filter((p) => p >= 50 * US));
  const t0 = period * d.int(1, 3);
  const offset = d.pick(RACE_OFFSETS);
  const at = (dt: number): string | number => fileDuration(Math.max(0, t0 + dt));
  const hk = listOf([d.pick(r.housekeeping)], r.nr);
  const victims = r.busy.length ? listOf(subset(d, r.busy, r.nr), r.nr) : null;
  const every = fileDuration(period);
  switch (kind) {
    case "flush-at-entry":
      // flush_tlb_kernel_range() after a lazy purge, while the isolated CPUs enter the kernel.
      if (!victims) return [];
      return [
        { type: "vmalloc-churn", cpus: hk, every, at: at(0), pages: d.pick([2048, 4096, 8192, 16384]) },
        { type: "syscall", cpus: victims, every, at: at(offset), call: d.pick(["getpid", "file-write"]) },
      ];
    case "drain-while-adding":
      // lru_add_drain_all() while the owners add pages to their batches.
      if (!victims) return [];
      return [
        { type: "lru-drain-all", cpus: hk, every, at: at(0) },
        { type: "syscall", cpus: victims, every, at: at(offset), call: d.pick(["file-write", "page-fault", "mlock"]), pages: d.pick([1, 14, 15, 31, 32]) },
      ];
    case "tick-stop-with-dependency": {
      // A second task (SCHED) or a callback (RCU) arrives as the tick stops after a kernel exit.
      if (!victims) return [];
      return [
        { type: "syscall", cpus: victims, every, at: at(0), call: d.pick(["getpid", "call-rcu"]) },
        { type: "wakeup", cpus: victims, every, at: at(offset), run: fileDuration(d.pick([1 * US, 10 * US, 100 * US])) },
      ];
    }
    case "bpf-image-replaced": {
      // The loader replaces and vfree()s large JIT images (the lazy purge comes after
      // lazy_max_pages, ~30 ms of them) while the isolated CPUs run the program from syscalls
      // that drift against the loader's period, so a re-mapped image meets a TLB entry of the old one.
      if (!victims) return [];
      const sys: WorkloadObject = { type: "syscall", cpus: victims, every: fileDuration(Math.max(10 * US, Math.round((period * d.pick([3, 13, 7])) / 10 / US) * US)), at: at(offset), call: "getpid" };
      if (d.chance(0.5)) sys.jitter = fileDuration(Math.max(1, Math.round(period / d.pick([2, 4]))));
      return [{ type: "bpf", cpus: victims, every, at: at(0), attach: d.pick(["sys_enter", "kprobe"]), pages: d.pick([256, 1023, 4096]) }, sys];
    }
    case "kernel-holdout": {
      // A grace period starts while an isolated CPU loops in the kernel, and waits past
      // jiffies_till_sched_qs (4.9: 50 ms, 6.1: 100 ms): FQS must force it (resched IPI, or
      // TICK_DEP_BIT_RCU); call_rcu() comes from another busy CPU 20 ms into the loop.
      const loopers = r.busy.filter((c) => r.isolated.includes(c));
      if (!loopers.length) return [];
      const loop = d.pick(loopers);
      const callers = r.busy.filter((c) => c !== loop);
      const first = d.pick([1 * MS, 2 * MS]);
      const items: WorkloadObject[] = [{ type: "kernel-loop", cpus: listOf([loop], r.nr), every: "400ms", at: fileDuration(first), run: fileDuration(d.pick([200, 250, 300]) * MS) }];
      if (callers.length) items.push({ type: "syscall", cpus: listOf(subset(d, callers, r.nr), r.nr), every: "100ms", at: fileDuration(first + 20 * MS), call: "call-rcu" });
      else items.push({ type: "syscall", cpus: listOf([loop], r.nr), every: "400ms", at: fileDuration(first - 500 * US), call: "call-rcu" });
      return items;
    }
    case "callbacks-as-idle": {
      // call_rcu() on busy CPUs while another CPU's kthread finishes and the CPU goes idle.
      const idle = Array.from({ length: r.nr }, (_, i) => i).filter((c) => !r.busy.includes(c));
      if (!victims || !idle.length) return [];
      const run = d.pick([1 * US, 5 * US, 20 * US]);
      return [
        { type: "wakeup", cpus: listOf([d.pick(idle)], r.nr), every, at: at(-run), run: fileDuration(run) },
        { type: "syscall", cpus: victims, every, at: at(offset), call: "call-rcu" },
      ];
    }
  }
}

/** Firings per second a workload plans, and ticks: what the event count grows with. */
function plannedRate(o: ScenarioObject): number {
  const spec = scenarioSpecOf(o);
  const hz = spec.kernel.hz ?? 1000;
  let rate = spec.kernel.cpus * hz;
  for (const w of spec.workload) {
    if (w.type === "user-loop") continue;
    const n = cpusOf(w.cpus, spec.kernel.cpus).length;
    rate += (n * 1e9) / w.every;
  }
  return rate;
}

function randomMechanisms(d: Draw, registry: MechanismRegistry): MechanismEntry[] {
  const out: MechanismEntry[] = [];
  for (const name of Object.keys(registry).sort()) {
    if (!d.chance(0.5)) continue;
    const m = registry[name]!({ field: "kernel.mechanisms" });
    const entry: MechanismEntry = { name };
    const variants = m.variants ?? [];
    if (variants.length && d.chance(0.7)) entry.variant = d.pick(variants);
    if (m.options && d.chance(0.2)) {
      const options: Record<string, unknown> = {};
      for (const [key, limit] of Object.entries(m.options).sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (!d.chance(0.4)) continue;
        const file = key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
        if (limit.type === "boolean") options[file] = d.chance(0.5);
        else if (limit.type === "choice") options[file] = d.pick(limit.values);
        else if (limit.oneOf) options[file] = d.pick(limit.oneOf);
        else {
          // Times from 50 ns: a 1 ns polling step is valid but makes tens of millions of events per run.
          const lo = Math.max(limit.unit === "ns" ? 50 : 1, limit.min);
          options[file] = d.logInt(lo, Math.max(lo, Math.min(limit.max, lo + 100_000)));
        }
      }
      if (Object.keys(options).length) entry.options = options;
    }
    out.push(entry);
  }
  return out;
}

/**
 * The index in the scenario's `list` of the mechanism an error names: `kernel.mechanisms[i]...`
 * counts in the composed list (the preset's entries the scenario does not replace, then the
 * scenario's: mergeMechanismEntries()), `<name>.options...` comes from a package; -1 when none.
 */
function mechanismIndexOf(field: string, list: readonly (string | MechanismEntry)[], preset: string): number {
  const nameOf = (e: string | MechanismEntry): string => (typeof e === "string" ? e : e.name);
  const named = list.findIndex((e) => field.startsWith(`${nameOf(e)}.`));
  if (named >= 0) return named;
  const m = /^kernel\.mechanisms\[(\d+)\]/.exec(field);
  if (!m) return -1;
  const own = new Set(list.map(nameOf));
  const composed = [...(presets[preset]?.mechanisms ?? []).map((e) => e.name).filter((n) => !own.has(n)), ...list.map(nameOf)];
  const name = composed[Number(m[1])];
  return name === undefined ? -1 : list.findIndex((e) => nameOf(e) === name);
}

/**
 * Checks a scenario object the way `isolsim run` would: validateScenario() and buildKernel() (CPU
 * lists, preset, parameters, composition). Returns the spec; throws the core's InputError.
 */
export function checkScenario(o: ScenarioObject, registry: MechanismRegistry): ScenarioSpec {
  const spec = scenarioSpecOf(o);
  validateScenario(spec);
  buildKernel(spec, { registry });
  return spec;
}

/**
 * A random scenario: a machine (CPU count biased to small, a nohz_full list in the kernel's
 * grammar or a command line, HZ, preset, parameters, mechanisms with variants and options) and a
 * workload (every workload type, random periods, `at` and jitter, and bursts aimed at the
 * {@link raceKinds}), around the {@link knownHazards} (or `opts.avoid`). Repairs what the composition refuses (a variant needing a switch that is
 * off: the mechanism is dropped) and returns only scenarios that pass {@link checkScenario}; a
 * scenario that fails is a bug of the generator and throws.
 */
export function generateScenario(seed: number, opts: GenerateOptions): ScenarioObject {
  const avoid = opts.avoid ?? knownHazards;
  let o = drawScenario(seed, opts);
  // A known hazard: draw again from a seed derived from this one (deterministic).
  for (let attempt = 0; hazardOf(o, avoid) !== null && attempt < 64; attempt++) o = drawScenario(runSeed(seed, attempt), opts);
  if (hazardOf(o, avoid) !== null) throw new Error(`torture: 64 draws from seed ${seed} all had known hazard ${hazardOf(o, avoid)!.id} (a bug of the generator, or --mechanisms that always make it)`);
  return o;
}

/** One draw of {@link generateScenario}, hazards not looked at. */
function drawScenario(seed: number, opts: GenerateOptions): ScenarioObject {
  const d = new Draw(seed);
  const presetNames = Object.keys(presets).sort();
  const preset = opts.preset ?? d.pick(presetNames);
  const nr = d.weighted([d.int(2, 4), d.int(5, 8), d.int(9, 16), d.int(17, 64), d.int(65, 256), 1], [40, 30, 14, 8, 3, 5]);
  const kernel: KernelObject = { preset, cpus: nr };
  if (d.chance(0.3)) kernel.hz = d.pick([100, 250, 300, 1000]);
  let isolated: number[] = [];
  if (nr > 1 && d.chance(0.9)) {
    const list = randomCpuList(d, nr, d.chance(0.1) ? 0 : 1, nr - 1);
    isolated = cpusOf(list, nr).filter((c) => c !== 0);
    if (d.chance(0.2)) {
      const words = [`nohz_full=${list}`];
      if (d.chance(0.6)) words.push(`isolcpus=${d.pick(["", "nohz,", "managed_irq,", "domain,managed_irq,", "nohz,domain,managed_irq,"])}${list}`);
      if (d.chance(0.4)) words.push(`rcu_nocbs=${list}`);
      if (d.chance(0.5)) words.push("irqaffinity=0");
      kernel.cmdline = words.join(" ");
    } else kernel.nohz_full = list;
  }
  const params: Record<string, unknown> = {};
  for (const s of SWITCHES) if (d.chance(0.25)) params[s] = d.chance(0.7);
  if (Object.keys(params).length) kernel.params = params;
  const mechanisms = opts.mechanisms ? opts.mechanisms.map((m) => ({ ...m })) : randomMechanisms(d, opts.registry);
  if (opts.mechanisms || mechanisms.length) kernel.mechanisms = mechanisms;

  const all = Array.from({ length: nr }, (_, i) => i);
  const housekeeping = all.filter((c) => !isolated.includes(c));
  const busy = d.chance(0.85) ? (isolated.length ? subset(d, isolated, nr) : [all[all.length - 1]!]) : [];
  if (d.chance(0.2)) busy.push(...housekeeping.filter((c) => c !== 0 && d.chance(0.5)));
  busy.sort((a, b) => a - b);
  const roles: Roles = { nr, isolated, housekeeping, busy };
  const workload: WorkloadObject[] = [];
  if (busy.length) {
    const loop: WorkloadObject = { type: "user-loop", cpus: isolated.length && busy.every((c) => isolated.includes(c)) && d.chance(0.3) ? listOf(busy, nr) : listOf(busy, nr) };
    if (d.chance(0.15)) loop.tasks = d.int(1, 3);
    if (d.chance(0.15)) {
      loop.policy = d.pick(["fifo", "rr"]);
      loop.priority = d.int(1, 99);
    }
    workload.push(loop);
  }
  const n = d.int(0, 6);
  for (let i = 0; i < n; i++) {
    const item = randomItem(d, roles);
    if (item) workload.push(item);
  }
  const races = d.int(0, 3);
  for (let i = 0; i < races; i++) workload.push(...race(d, d.pick(raceKinds), roles));
  while (workload.length === 0) {
    const item = randomItem(d, roles);
    if (item) workload.push(item);
  }

  // One scenario in ten is long and light (1.5-3 s, slow periods): what only shows after the 1 s
  // remote tick period or a vmstat interval (remote-tick-staleness, vmstat folds). Drawn apart, so
  // the other scenarios of a seed stay as they are.
  const long = new Draw(seed ^ 0x5a5a5a5a);
  const isLong = long.chance(0.1);
  if (isLong) {
    const light = workload.filter((w) => w.type === "user-loop");
    for (const w of workload) {
      if (w.type === "user-loop" || light.length > 2) continue;
      const every = long.pick([100 * MS, 250 * MS, 500 * MS]);
      const item: WorkloadObject = { ...w, every: fileDuration(every) };
      delete item.at;
      delete item.jitter;
      if (item.run !== undefined) item.run = fileDuration(Math.min(durationNs(item.run)!, 10 * MS));
      light.push(item);
    }
    workload.splice(0, workload.length, ...light);
  }
  const o: ScenarioObject = { name: opts.name ?? `torture-${seed}`, seed: d.seed(), duration: 0, kernel, workload };
  const shortest = Math.max(2 * MS, opts.minDurationNs ?? 0);
  const wantNs = isLong
    ? Math.floor(long.logInt(1500 * MS, 3000 * MS) / MS) * MS
    : Math.floor(d.logInt(shortest, Math.max(shortest, opts.maxDurationNs ?? DEFAULT_MAX_DURATION_NS)) / US) * US;
  const budget = (opts.firingBudget ?? DEFAULT_FIRING_BUDGET) * (isLong ? 10 : 1);
  const fitNs = Math.floor((budget / plannedRate(o)) * 1e9);
  // A kernel holdout needs the run to outlast jiffies_till_sched_qs: at least 350 ms when it fits.
  const holdout = workload.some((w) => w.type === "kernel-loop" && w.every === "400ms");
  // Large BPF images reach lazy_max_pages after tens of ms: at least 120 ms when it fits.
  const purging = workload.some((w) => w.type === "bpf" && typeof w.pages === "number" && w.pages >= 256);
  const floorNs = Math.min(holdout ? 350 * MS : purging ? 120 * MS : MS, Math.max(MS, fitNs - (fitNs % US)));
  const lengthNs = Math.max(opts.minDurationNs ?? floorNs, floorNs, Math.min(wantNs, fitNs - (fitNs % US)));
  o.duration = fileDuration(lengthNs);
  if (d.chance(0.2)) o.warmup = fileDuration(Math.floor(lengthNs / d.pick([2, 4, 10]) / US) * US);
  return repaired(o, opts);
}

/** Drops what composition refuses (drawn mechanisms only), then asserts the scenario is valid. */
function repaired(o: ScenarioObject, opts: GenerateOptions): ScenarioObject {
  const out = cloneScenario(o);
  for (let attempt = 0; ; attempt++) {
    try {
      checkScenario(out, opts.registry);
      return out;
    } catch (e) {
      const list = out.kernel.mechanisms;
      const i = e instanceof InputError && list ? mechanismIndexOf(e.field, list, out.kernel.preset) : -1;
      if (!opts.mechanisms && list && i >= 0 && i < list.length && attempt < 32) {
        const entry = list[i]!;
        if (typeof entry !== "string" && entry.options && !(e instanceof CompositionError)) delete entry.options;
        else list.splice(i, 1);
        continue;
      }
      throw new Error(`torture generated an invalid scenario (a bug of the generator): ${(e as Error).message}\n${JSON.stringify(out)}`);
    }
  }
}
