import type { Nanoseconds } from "./engine/engine.js";
import type { MechanismEntry } from "./mechanism.js";
import { InputError } from "./params.js";
import { checkScenarioField, scenarioLimits, showValue } from "./limits.js";
import type { ScenarioLimitPath } from "./limits.js";

/** The kernel part of a scenario (contract: `kernel`). */
export interface KernelSpec {
  /** Preset name. */
  preset: string;
  /** Number of CPUs. */
  cpus: number;
  /** CONFIG_HZ; the preset's when absent. */
  hz?: number;
  /** nohz_full cpu list. */
  nohzFull?: string;
  /** A kernel command line instead of nohzFull. */
  cmdline?: string;
  /** Mechanisms after the preset's. */
  mechanisms?: MechanismEntry[];
  /** Parameter overrides, snake_case names. */
  params?: Record<string, unknown>;
}

/** Fields shared by periodic workloads. */
export interface PeriodicSpec {
  /** Period, ns. */
  every: Nanoseconds;
  /** First firing, ns (default: every). */
  at?: Nanoseconds;
  /** Uniform delay drawn in [0, jitter] per firing, ns. */
  jitter?: Nanoseconds;
}

/** A workload item (contract: `workload[]`). */
export type WorkloadSpec =
  | {
      /** Busy user tasks, forever. */
      type: "user-loop";
      /** CPUs that each get the tasks (cpu list). */
      cpus: string;
      /** Busy tasks per listed CPU (default 1). */
      tasks?: number;
      /** Scheduling policy (default `other`). */
      policy?: "other" | "fifo" | "rr";
      /** RT priority 1-99, for `fifo` and `rr`. */
      priority?: number;
    }
  | ({
      /** The CPU's user-loop task enters the kernel periodically. */
      type: "syscall";
      /** CPUs whose user-loop task makes the call (cpu list). */
      cpus: string;
      /** Which syscall. */
      call: SyscallName;
      /** Pages per call for `file-write`, `page-fault`, `mlock` (default 8). */
      pages?: number;
    } & PeriodicSpec)
  | ({
      /** vmalloc() + vfree() of `pages` pages each period, in kernel context. */
      type: "vmalloc-churn";
      /** CPUs that churn (cpu list). */
      cpus: string;
      /** Pages per vmalloc. */
      pages: number;
    } & PeriodicSpec)
  | ({
      /** Calls lru_add_drain_all() each period, in kernel context. */
      type: "lru-drain-all";
      /** CPUs that call it (cpu list). */
      cpus: string;
      /** Then drain_all_pages() too, as alloc_contig_range() and offline_pages() do (default false). */
      pcp?: boolean;
    } & PeriodicSpec)
  | ({
      /** A kernel thread bound to the CPU is woken from a housekeeping CPU and runs. */
      type: "wakeup";
      /** CPUs with such a kthread (cpu list). */
      cpus: string;
      /** How long it runs per wakeup, ns. */
      run: Nanoseconds;
    } & PeriodicSpec)
  | ({
      /** The CPU's task stays in the kernel for `run` each period. */
      type: "kernel-loop";
      /** CPUs that loop in the kernel (cpu list). */
      cpus: string;
      /** How long each kernel stay lasts, ns. */
      run: Nanoseconds;
    } & PeriodicSpec)
  | ({
      /** A BPF program run on the listed CPUs' syscall entries, re-loaded (JIT image vmalloc'd, old one vfree()d) from a housekeeping CPU each period. */
      type: "bpf";
      /** CPUs on which the program runs (cpu list). */
      cpus: string;
      /** Attach point: `sys_enter` (tracepoint, after context tracking; default) or `kprobe` (on do_syscall_64(), before it). */
      attach?: "sys_enter" | "kprobe";
      /** Pages of each JIT image (default 1). */
      pages?: number;
    } & PeriodicSpec);

/** Syscalls of the `syscall` workload. */
export const syscallNames = ["getpid", "file-write", "page-fault", "mlock", "call-rcu"] as const;

/** Syscalls of the `syscall` workload. */
export type SyscallName = (typeof syscallNames)[number];

/** Syscalls that touch pages and so take `pages`. */
export const pagedSyscalls: readonly SyscallName[] = ["file-write", "page-fault", "mlock"];

/** Scheduling policies of `user-loop`. */
export const userLoopPolicies = ["other", "fifo", "rr"] as const;

/** The fields of one workload type: required ones, then optional ones (besides `type`). */
export interface WorkloadFields {
  /** Fields that must be given. */
  readonly required: readonly string[];
  /** Fields that may be given. */
  readonly optional: readonly string[];
}

/** Fields of every periodic workload type. */
const PERIODIC: WorkloadFields = { required: ["cpus", "every"], optional: ["at", "jitter"] };

/**
 * The fields each workload type takes (a type without an entry fails limits.test.ts): unknown fields
 * are errors. Numeric ones are checked against `workload[].<field>` of {@link scenarioLimits}.
 */
export const workloadFields: Readonly<Record<WorkloadSpec["type"], WorkloadFields>> = {
  "user-loop": { required: ["cpus"], optional: ["tasks", "policy", "priority"] },
  syscall: { required: [...PERIODIC.required, "call"], optional: [...PERIODIC.optional, "pages"] },
  "vmalloc-churn": { required: [...PERIODIC.required, "pages"], optional: PERIODIC.optional },
  "lru-drain-all": { required: PERIODIC.required, optional: [...PERIODIC.optional, "pcp"] },
  wakeup: { required: [...PERIODIC.required, "run"], optional: PERIODIC.optional },
  "kernel-loop": { required: [...PERIODIC.required, "run"], optional: PERIODIC.optional },
  bpf: { required: PERIODIC.required, optional: [...PERIODIC.optional, "attach", "pages"] },
};

/** Top-level fields of a {@link ScenarioSpec}. */
const SCENARIO_KEYS = ["name", "description", "seed", "duration", "warmup", "kernel", "workload"];
/** Fields of a {@link KernelSpec}. */
const KERNEL_KEYS = ["preset", "cpus", "hz", "nohzFull", "cmdline", "mechanisms", "params"];
/** Fields of a {@link MechanismEntry}. */
const MECHANISM_KEYS = ["name", "variant", "options"];

const has = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Throws unless `v` is a plain object; names `field`. */
function object(field: string, v: unknown, what: string): Record<string, unknown> {
  if (!isObject(v)) throw new InputError(field, `${showValue(v)} is not valid (valid: ${what})`);
  return v;
}

/** Throws on a key of `o` not in `keys`, naming the valid ones. */
function onlyKeys(field: string, o: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) throw new InputError(`${field ? `${field}.` : ""}${key}`, `unknown field (valid: ${keys.join(", ")})`);
  }
}

/** Throws unless `v` is a string (non-empty when `nonEmpty`). */
function string(field: string, v: unknown, what: string, nonEmpty = false): void {
  if (typeof v !== "string" || (nonEmpty && v === "")) throw new InputError(field, `${showValue(v)} is not valid (valid: ${what})`);
}

/** Throws unless `v` is one of `values`. */
function choice(field: string, v: unknown, values: readonly string[]): void {
  if (typeof v !== "string" || !values.includes(v)) throw new InputError(field, `${showValue(v)} is not valid (valid: ${values.join(", ")})`);
}

/**
 * Checks the types and ranges of every field of a scenario (the limits table, limits.ts) and the
 * rules between fields the core can see without building the kernel: warmup below duration,
 * `kernel.hz` against `kernel.params.hz`, `priority` only with an RT policy, `pages` only with a
 * call that touches pages. Throws an InputError naming the first offending field. CPU lists, the
 * preset, parameters and mechanisms are checked where they are resolved (buildKernel()).
 */
export function validateScenario(spec: ScenarioSpec): void {
  const s = object("(scenario)", spec, "a ScenarioSpec object") as unknown as Record<string, unknown>;
  onlyKeys("", s, SCENARIO_KEYS);
  string("name", s.name, "a string");
  if (s.description !== undefined) string("description", s.description, "a string");
  checkScenarioField("seed", "seed", s.seed);
  checkScenarioField("duration", "duration", s.duration);
  checkScenarioField("warmup", "warmup", s.warmup);
  if ((s.warmup as number) >= (s.duration as number)) {
    throw new InputError("warmup", `${s.warmup as number} ns is not valid (valid: 0 <= warmup < duration ${s.duration as number} ns)`);
  }
  validateKernel(object("kernel", s.kernel, "an object with preset and cpus"));
  const workload = s.workload;
  if (!Array.isArray(workload)) throw new InputError("workload", `${showValue(workload)} is not valid (valid: a list of workload items)`);
  checkScenarioField("workload", "workload", workload.length);
  workload.forEach((w: unknown, i) => validateWorkloadItem(`workload[${i}]`, w));
}

function validateKernel(k: Record<string, unknown>): void {
  onlyKeys("kernel", k, KERNEL_KEYS);
  string("kernel.preset", k.preset, "a preset name", true);
  checkScenarioField("kernel.cpus", "kernel.cpus", k.cpus);
  if (k.hz !== undefined) checkScenarioField("kernel.hz", "kernel.hz", k.hz);
  if (k.nohzFull !== undefined) string("kernel.nohz_full", k.nohzFull, 'a CPU list string such as "1-7"');
  if (k.cmdline !== undefined) string("kernel.cmdline", k.cmdline, 'a kernel command line string such as "nohz_full=1-7"');
  if (k.cmdline !== undefined && k.nohzFull !== undefined) {
    throw new InputError("kernel.cmdline", "give either kernel.cmdline or kernel.nohz_full, not both");
  }
  if (k.params !== undefined) {
    const params = object("kernel.params", k.params, "an object of parameter overrides");
    // Two places for one CONFIG_HZ: the same value is fine, two different ones are a contradiction.
    if (k.hz !== undefined && has(params, "hz") && params.hz !== k.hz) {
      throw new InputError("kernel.params.hz", `${showValue(params.hz)} conflicts with kernel.hz ${showValue(k.hz)} (valid: give hz once, or the same value in both)`);
    }
  }
  if (k.mechanisms !== undefined) {
    if (!Array.isArray(k.mechanisms)) throw new InputError("kernel.mechanisms", `${showValue(k.mechanisms)} is not valid (valid: a list of mechanism entries)`);
    k.mechanisms.forEach((m: unknown, i) => {
      const field = `kernel.mechanisms[${i}]`;
      const e = object(field, m, '{ name, variant?, options? }');
      onlyKeys(field, e, MECHANISM_KEYS);
      string(`${field}.name`, e.name, "a mechanism name", true);
      if (e.variant !== undefined) string(`${field}.variant`, e.variant, "a variant name");
      if (e.options !== undefined) object(`${field}.options`, e.options, "an object of options");
    });
  }
}

function validateWorkloadItem(field: string, raw: unknown): void {
  const w = object(field, raw, "a workload item object with type and cpus");
  const types = Object.keys(workloadFields);
  const type = w.type;
  if (typeof type !== "string" || !has(workloadFields, type)) {
    throw new InputError(`${field}.type`, `${showValue(type)} is not a workload type (valid: ${types.join(", ")})`);
  }
  const fields = workloadFields[type as WorkloadSpec["type"]];
  onlyKeys(field, w, ["type", ...fields.required, ...fields.optional]);
  for (const key of fields.required) {
    if (w[key] === undefined) throw new InputError(`${field}.${key}`, `required for type ${type}`);
  }
  for (const [key, value] of Object.entries(w)) {
    if (value === undefined) continue;
    const path = `workload[].${key}`;
    if (has(scenarioLimits, path)) checkScenarioField(path as ScenarioLimitPath, `${field}.${key}`, value);
  }
  string(`${field}.cpus`, w.cpus, 'a CPU list string such as "1-7"');
  if (type === "syscall") {
    choice(`${field}.call`, w.call, syscallNames);
    if (w.pages !== undefined && !(pagedSyscalls as readonly string[]).includes(w.call as string)) {
      throw new InputError(`${field}.pages`, `${showValue(w.pages)} is not valid for call "${w.call as string}" (valid: pages only with call ${pagedSyscalls.join(", ")})`);
    }
  }
  if (type === "lru-drain-all" && w.pcp !== undefined && typeof w.pcp !== "boolean") {
    throw new InputError(`${field}.pcp`, `${showValue(w.pcp)} is not valid (valid: true or false)`);
  }
  if (type === "user-loop") {
    if (w.policy !== undefined) choice(`${field}.policy`, w.policy, userLoopPolicies);
    const rt = w.policy === "fifo" || w.policy === "rr";
    if (rt && w.priority === undefined) throw new InputError(`${field}.priority`, `missing for policy ${w.policy as string} (valid: an integer 1-99)`);
    if (!rt && w.priority !== undefined) {
      throw new InputError(`${field}.priority`, `${showValue(w.priority)} is not valid with policy ${(w.policy as string | undefined) ?? "other"}: SCHED_OTHER has no RT priority (valid: priority only with policy fifo or rr)`);
    }
  }
}

/** A validated scenario (contract: scenario file), durations in ns. */
export interface ScenarioSpec {
  /** Name. */
  name: string;
  /** One sentence. */
  description?: string;
  /** PRNG seed. */
  seed: number;
  /** Simulated duration, ns. */
  duration: Nanoseconds;
  /** Start of the measured window, ns. */
  warmup: Nanoseconds;
  /** The machine and kernel. */
  kernel: KernelSpec;
  /** What runs. */
  workload: WorkloadSpec[];
}
