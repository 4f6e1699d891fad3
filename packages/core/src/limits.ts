/**
 * The limits table (STYLE rule 15): the type, valid range and reason of every numeric scenario
 * field, kernel parameter and mechanism option, read by every front door — `simulate()` /
 * `buildKernel()`, the CLI's schema and `validate`, and the generated reference
 * (`scripts/gen-params-doc.mjs`). A new parameter needs a row in {@link paramLimits} (a test fails
 * without one); a mechanism declares its options' rows in its `options` table.
 */
import type { Params } from "./params.js";
import { InputError } from "./params.js";

/** An integer input: `min`..`max` (or only `oneOf`), with `off` as a further value that disables it. */
export interface IntegerLimit {
  /** Discriminant. */
  readonly type: "integer";
  /** Smallest valid value. */
  readonly min: number;
  /** Largest valid value. */
  readonly max: number;
  /** The only valid values, when they are a few (CONFIG_HZ). */
  readonly oneOf?: readonly number[];
  /** A value outside `min`..`max` that is valid too and switches the feature off (sched_rt_runtime_us -1). */
  readonly off?: number;
  /** `ns` for a time, shown with units in messages and the reference. */
  readonly unit?: "ns";
  /** Why these bounds, in one line. */
  readonly why: string;
}

/** A boolean input: `true` or `false`, nothing else (no `"false"`, `0` or `null`). */
export interface BooleanLimit {
  /** Discriminant. */
  readonly type: "boolean";
  /** Why it is a switch, in one line. */
  readonly why: string;
}

/** A named choice: one of `values`. */
export interface ChoiceLimit {
  /** Discriminant. */
  readonly type: "choice";
  /** The valid values. */
  readonly values: readonly string[];
  /** Why these values, in one line. */
  readonly why: string;
}

/** The type, valid values and reason of one input. */
export type Limit = IntegerLimit | BooleanLimit | ChoiceLimit;

/** The limits of a mechanism's options by camelCase option name (scenario files spell them snake_case). */
export type OptionLimits = Readonly<Record<string, Limit>>;

/** One simulated second, ns. */
const SECOND = 1_000_000_000;
/** One simulated hour, ns. */
const HOUR = 3600 * SECOND;

/** Longest simulated run (`duration`), ns: one hour. */
export const MAX_DURATION_NS = HOUR;
/** Largest machine the model accepts: x86_64 NR_CPUS with CONFIG_MAXSMP (arch/x86/Kconfig). */
export const MAX_CPUS = 8192;
/** Most workload items in one scenario. */
export const MAX_WORKLOAD_ITEMS = 1024;
/** Largest `pages` of a workload item: 1 GiB of 4 KiB pages. */
export const MAX_PAGES = 262_144;
/** Shortest `every` of a periodic workload item, ns (1 µs). */
export const MIN_PERIOD_NS = 1000;
/** Largest cost a parameter or option may give one piece of kernel work, ns (1 s). */
export const MAX_COST_NS = SECOND;

/** An integer limit `min`..`max`. */
export function integerLimit(min: number, max: number, why: string): IntegerLimit {
  return { type: "integer", min, max, why };
}

/** An integer limit of ns `min`..`max`. */
export function nsLimit(min: number, max: number, why: string): IntegerLimit {
  return { type: "integer", min, max, unit: "ns", why };
}

/** A cost of kernel work: 0 to {@link MAX_COST_NS} ns. */
export function costLimit(why = "a cost of kernel work: at most 1 s (a real handler or call takes ns to µs)"): IntegerLimit {
  return nsLimit(0, MAX_COST_NS, why);
}

/** A boolean limit. */
export function booleanLimit(why: string): BooleanLimit {
  return { type: "boolean", why };
}

/** A choice among `values`. */
export function choiceLimit(values: readonly string[], why: string): ChoiceLimit {
  return { type: "choice", values, why };
}

const int = integerLimit;
const ns = nsLimit;
const cost = costLimit;
const bool = booleanLimit;

/** CONFIG_HZ's choices. */
const HZ: IntegerLimit = { type: "integer", min: 100, max: 1000, oneOf: [100, 250, 300, 1000], why: "the CONFIG_HZ choices of kernel/Kconfig.hz" };

/**
 * Numeric scenario fields by path (`[]` stands for any index; `workload` is the number of items),
 * as scenario files name them; durations in ns (files may also give them with a unit).
 */
export const scenarioLimits = {
  /** The PRNG seed. */
  seed: int(0, 0xffffffff, "seeds the scenario's one PRNG, a 32-bit sfc32 (engine/prng.ts)"),
  /** Simulated time, ns. */
  duration: ns(1, MAX_DURATION_NS, "one simulated hour at most: every effect of the model repeats within seconds, and run time grows with simulated time"),
  /** Start of the measured window, ns. */
  warmup: ns(0, MAX_DURATION_NS, "the start of the measured window, inside the run: also below duration"),
  /** Number of CPUs. */
  "kernel.cpus": int(1, MAX_CPUS, "x86_64 NR_CPUS with CONFIG_MAXSMP (arch/x86/Kconfig)"),
  /** CONFIG_HZ. */
  "kernel.hz": HZ,
  /** Number of workload items. */
  workload: int(0, MAX_WORKLOAD_ITEMS, "items in the workload list: each registers its own events and per-CPU state; 1024 is far more than any scenario needs"),
  /** Period of a periodic item, ns. */
  "workload[].every": ns(MIN_PERIOD_NS, MAX_DURATION_NS, "a period of at least 1 µs (the kernel entry and exit alone cost ~300 ns) and at most a run; a firing whose previous one has not started is skipped, as an overrun hrtimer fires once"),
  /** First firing of a periodic item, ns. */
  "workload[].at": ns(0, MAX_DURATION_NS, "the first firing, within the longest run"),
  /** Largest random delay of a firing, ns. */
  "workload[].jitter": ns(0, MAX_DURATION_NS, "a random delay per firing, within the longest run"),
  /** Pages per syscall or per vmalloc(). */
  "workload[].pages": int(1, MAX_PAGES, "pages per call or per vmalloc(): at most 1 GiB of 4 KiB pages"),
  /** Time a wakeup kthread runs or a kernel-loop stays in the kernel, ns. */
  "workload[].run": ns(0, MAX_DURATION_NS, "time in the kernel per firing, within the longest run"),
  /** Busy user tasks per CPU of a user-loop. */
  "workload[].tasks": int(1, 64, "busy tasks per CPU: a few make the point (2 keep the SCHED tick); 64 is plenty"),
  /** RT priority of a fifo/rr user-loop. */
  "workload[].priority": int(1, 99, "SCHED_FIFO/SCHED_RR priorities (MAX_USER_RT_PRIO - 1 = 99, include/linux/sched/prio.h)"),
} as const satisfies Readonly<Record<string, IntegerLimit>>;

/** A path of {@link scenarioLimits}. */
export type ScenarioLimitPath = keyof typeof scenarioLimits;

/** The limit of every kernel parameter (a parameter without one fails limits.test.ts and the type check). */
export const paramLimits: Readonly<Record<keyof Params, Limit>> = {
  hz: HZ,
  tickHandlerNs: cost(),
  ipiHandlerNs: cost(),
  ipiReschedNs: cost(),
  ipiIrqWorkNs: cost(),
  ipiLatencyNs: cost("a delivery latency: at most 1 s (a real IPI arrives within µs)"),
  kernelEntryNs: cost(),
  kernelExitNs: cost(),
  syscallNs: cost(),
  pageOpNs: cost(),
  vmallocPageNs: cost(),
  tlbFlushAllNs: cost(),
  invlpgNs: cost(),
  tlbSinglePageFlushCeiling: int(0, MAX_PAGES, "pages of one flush_tlb_kernel_range(): 0 (always flush all) up to the largest vmalloc of a workload"),
  tlbKernelEntries: int(0, 65_536, "translations one TLB holds: real STLBs hold 1-2 K; 64 K leaves room and bounds per-CPU state"),
  spuriousTimerNs: cost(),
  kworkerWorkNs: cost(),
  contextSwitchNs: cost(),
  schedMinGranularityNs: ns(100_000, SECOND, "sysctl_sched_min_granularity's range, 100 µs-1 s (kernel/sysctl.c min/max_sched_granularity_ns)"),
  schedLatencyNs: ns(100_000, SECOND, "sysctl_sched_latency's range, 100 µs-1 s (kernel/sysctl.c min/max_sched_granularity_ns)"),
  schedRtRuntimeNs: { type: "integer", min: 0, max: MAX_DURATION_NS, off: -1, unit: "ns", why: "sched_rt_runtime_us: -1 disables RT throttling; otherwise at most the period (sched_rt_global_validate())" },
  schedRtPeriodNs: ns(1000, MAX_DURATION_NS, "sched_rt_period_us: positive (sched_rt_global_validate()), at most the longest run"),
  idlePoll: bool("a kernel configuration switch"),
  rtRuntimeShare: bool("a scheduler feature bit"),
  clockeventOneshotStopped: bool("a kernel version difference"),
  tickDepRcu: bool("a kernel version difference"),
  tickDepKickAll: bool("a kernel version difference"),
  preemptRcu: bool("a kernel configuration switch"),
  rcuJiffiesTillSchedQsNs: ns(0, 21 * SECOND, "jiffies_till_sched_qs as ns: at most the default RCU CPU stall timeout, after which it would never matter"),
  rcuCpuStallTimeoutNs: ns(3 * SECOND, 300 * SECOND, "CONFIG_RCU_CPU_STALL_TIMEOUT's Kconfig range, 3-300 s (lib/Kconfig.debug)"),
  rcuNocbLeaderStride: int(0, MAX_CPUS, "CPUs per rcuo leader: 0 (int_sqrt(nr_cpu_ids)) up to the largest machine"),
  rcuGpKthreadNs: cost(),
  rcuFqsPerCpuNs: cost(),
  rcuSoftirqNs: cost(),
  rcuCallbackNs: cost(),
  rcuNocbKthreadNs: cost(),
  remoteTickNs: cost(),
  timerSoftirqNs: cost(),
  wqBarrierNs: cost(),
  queueWorkNs: cost(),
  flushWorkNs: cost(),
  workqueueStallNs: ns(SECOND, MAX_DURATION_NS, "wq_watchdog_thresh is whole seconds (kernel/workqueue.c); at most the longest run"),
  workqueueStarvedNs: ns(0, MAX_DURATION_NS, "a waiting time, within the longest run"),
  pagevecSize: int(1, 255, "pages per LRU batch: kernels use 14, 15 and 31; struct folio_batch counts them in an unsigned char"),
  lruDrainGen: bool("a kernel version difference"),
  mlockDrainsAll: bool("a kernel version difference"),
  mlockBatch: bool("a kernel version difference"),
  vmstatIntervalNs: ns(1_000_000, MAX_DURATION_NS, "vm.stat_interval: at least a jiffy at HZ 1000 (a 0 interval would re-arm vmstat_update at once, forever), at most the longest run"),
  vmstatManagedMb: int(1, 16_777_216, "a zone's managed memory, 1 MiB-16 TiB"),
  vmstatQuietAtTickStop: bool("a kernel version difference"),
  vmstatNeedUpdateNodes: bool("a kernel version difference"),
  threadSizeBytes: int(4096, 65_536, "THREAD_SIZE: PAGE_SIZE << THREAD_SIZE_ORDER, 4 KiB (x86_32 4KSTACKS) to 64 KiB"),
  pti: bool("a kernel configuration switch (CONFIG_PAGE_TABLE_ISOLATION, v4.15+)"),
  rcuCallbackInvokeBoundNs: ns(10_000_000, 300 * SECOND, "a checker bound: at least a jiffy at HZ 100 (invocation takes a few jiffies), at most the longest RCU stall timeout"),
  preemptLazy: bool("a kernel configuration switch (CONFIG_PREEMPT_LAZY / PREEMPT_RT, v6.13)"),
  rcuUseSoftirq: bool("a kernel boot parameter (rcutree.use_softirq)"),
  rcuBoost: bool("a kernel configuration switch (CONFIG_RCU_BOOST)"),
  rcuLazy: bool("a kernel configuration switch (CONFIG_RCU_LAZY, v6.2+)"),
  rcuLazyFlushNs: ns(10_000_000, 300 * SECOND, "jiffies_lazy_flush: at least a jiffy at HZ 100, at most the longest RCU stall timeout (rcu_set_jiffies_lazy_flush() takes any jiffies)"),
  rcuExpKthreadWorkers: bool("a kernel version difference"),
  rcuTasksKthreads: bool("a kernel version difference"),
  fairServerRuntimeNs: ns(0, 4_194_304_000, "fair_server runtime: 0 (disabled) up to the largest period (sched_fair_server_write() also refuses a runtime above the period)"),
  fairServerPeriodNs: ns(100_000, 4_194_304_000, "fair_server period: fair_server_period_min/max of sched_fair_server_write() (kernel/sched/debug.c, 6.12), 100 µs-2^22 µs"),
  dlServerCountsNrRunning: bool("a kernel version difference"),
  dlServerTimerUpdatesCurr: bool("a kernel version difference"),
  rcuFlavoursMerged: bool("a kernel version difference"),
  rcuPendingNohzFullUserOnly: bool("a kernel version difference"),
  qpw: bool("a boot option of a pending series (qpw=, CONFIG_QPW)"),
};

/** A time of ns in the largest scenario-file unit that divides it: `1000` → `1us`, `3600000000000` → `3600s`. */
export function formatNs(v: number): string {
  for (const [unit, scale] of [["s", SECOND], ["ms", 1e6], ["us", 1e3]] as const) {
    if (v !== 0 && v % scale === 0) return `${v / scale}${unit}`;
  }
  return `${v}ns`;
}

/** What is valid under `limit`, as messages and the reference say it (`an integer 1-8192`, `an integer >= 0 and <= 1000000000 ns (0ns to 1s)`, `100, 250, 300, 1000`, `true, false`). */
export function describeLimit(limit: Limit): string {
  switch (limit.type) {
    case "boolean":
      return "true, false";
    case "choice":
      return limit.values.join(", ");
    case "integer": {
      if (limit.oneOf) return limit.oneOf.join(", ");
      const range =
        limit.unit === "ns" ? `an integer >= ${limit.min} and <= ${limit.max} ns (${formatNs(limit.min)} to ${formatNs(limit.max)})` : `an integer ${limit.min}-${limit.max}`;
      return limit.off !== undefined ? `${limit.off} (off) or ${range}` : range;
    }
  }
}

/** Whether `value` is valid under `limit`. */
export function withinLimit(value: unknown, limit: Limit): boolean {
  switch (limit.type) {
    case "boolean":
      return typeof value === "boolean";
    case "choice":
      return typeof value === "string" && limit.values.includes(value);
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return false;
      if (limit.oneOf) return limit.oneOf.includes(value);
      return value === limit.off || (value >= limit.min && value <= limit.max);
  }
}

/** The message for an invalid `value` under `limit`: `1e+30 is not valid (valid: an integer >= 0 and <= 1000000000 ns (0ns to 1s))`. */
export function limitMessage(value: unknown, limit: Limit): string {
  return `${showValue(value)} is not valid (valid: ${describeLimit(limit)})`;
}

/** A value as a message shows it: JSON, shortened; `undefined` as `missing`; a value JSON cannot show (too deep, cyclic, a function) by its type. */
export function showValue(value: unknown): string {
  if (value === undefined) return "missing";
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch {
    s = undefined;
  }
  if (s === undefined) s = Array.isArray(value) ? "(a list)" : `(a ${typeof value})`;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Throws an InputError naming `field` unless `value` is valid under `limit`. */
export function checkLimit(field: string, value: unknown, limit: Limit): void {
  if (!withinLimit(value, limit)) throw new InputError(field, limitMessage(value, limit));
}

/** Checks a scenario field of {@link scenarioLimits}; `field` is its concrete path (`workload[2].every`). */
export function checkScenarioField(path: ScenarioLimitPath, field: string, value: unknown): void {
  checkLimit(field, value, scenarioLimits[path]);
}

/**
 * Checks a mechanism's options against its table: an unknown key is an error naming the valid
 * ones, a value of the wrong type or out of range one naming the range. Errors name
 * `<mechanism>.options.<key>` (the CLI's registry renames that `kernel.mechanisms[i].options.<key>`).
 * `variant` and `faults` (test-only) are not options and are skipped.
 */
export function checkOptions(mechanism: string, options: object, limits: OptionLimits): void {
  for (const [key, value] of Object.entries(options)) {
    if (key === "variant" || key === "faults" || value === undefined) continue;
    const limit = Object.prototype.hasOwnProperty.call(limits, key) ? limits[key] : undefined;
    if (!limit) {
      const valid = Object.keys(limits);
      throw new InputError(`${mechanism}.options.${key}`, `unknown option of ${mechanism} (valid: ${valid.length ? valid.join(", ") : "none"})`);
    }
    checkLimit(`${mechanism}.options.${key}`, value, limit);
  }
}
