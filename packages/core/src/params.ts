/**
 * Named, documented, overridable model parameters (defaults from shared/kernel-model.md §9).
 * Scenario files name them in snake_case (`tick_handler_ns`); the TypeScript API in camelCase.
 */

/** Every parameter of the simulated kernel. */
export interface Params {
  /** CONFIG_HZ: tick frequency (100, 250, 300 or 1000). */
  hz: number;
  /** Tick handler cost (tick_sched_timer + update_process_times), ns. */
  tickHandlerNs: number;
  /** Call-function IPI handler cost (smp_call_function_single_interrupt), ns. */
  ipiHandlerNs: number;
  /** Reschedule IPI handler cost (scheduler_ipi), ns. */
  ipiReschedNs: number;
  /** irq_work IPI handler cost (irq_work_run of nohz_full_kick_func), ns. */
  ipiIrqWorkNs: number;
  /** Latency from sending an IPI to its arrival at the target, ns. */
  ipiLatencyNs: number;
  /** Kernel entry cost from user or idle (entry code + context tracking), ns. */
  kernelEntryNs: number;
  /** Kernel exit cost back to user (exit_to_user_mode), ns. */
  kernelExitNs: number;
  /** Body of a cheap syscall such as getpid, ns. */
  syscallNs: number;
  /** Cost per page of a page-cache write, fault or mlock inside a syscall, ns. */
  pageOpNs: number;
  /** Cost of a timer interrupt that finds no expired hrtimer (hrtimer_interrupt()), ns. */
  spuriousTimerNs: number;
  /** Cost of one kworker work item such as vmstat_update or lru_add_drain_per_cpu, ns. */
  kworkerWorkNs: number;
  /** Cost of a context switch (__schedule + switch_to), ns. */
  contextSwitchNs: number;
  /** CFS sysctl_sched_min_granularity before scaling, ns (kernel/sched/fair.c). */
  schedMinGranularityNs: number;
  /** CFS sysctl_sched_latency before scaling, ns (kernel/sched/fair.c). */
  schedLatencyNs: number;
  /** sched_rt_runtime_us in ns; -1 disables RT throttling. */
  schedRtRuntimeNs: number;
  /** sched_rt_period_us in ns. */
  schedRtPeriodNs: number;
  /** Whether clock event devices implement set_state_oneshot_stopped (x86 LAPIC: v4.12+). */
  clockeventOneshotStopped: boolean;
  /** Whether the tick has TICK_DEP_BIT_RCU (v5.10+); 4.9 does not. */
  tickDepRcu: boolean;
  /** Whether task/signal-level tick dependencies kick every nohz_full CPU (4.9 tick_nohz_full_kick_all()). */
  tickDepKickAll: boolean;
}

/** Parameter metadata: default value and one-line documentation. */
export interface ParamInfo {
  /** snake_case name used in scenario files. */
  name: string;
  /** Default value (the linux-4.9 preset may override). */
  default: number | boolean;
  /** What the parameter is. */
  doc: string;
  /** Smallest valid value for numeric parameters. */
  min?: number;
}

/** Default parameters: a 2016 (linux-4.9) x86 machine, bare metal. */
export const defaultParams: Readonly<Params> = Object.freeze({
  hz: 1000,
  tickHandlerNs: 2000,
  ipiHandlerNs: 1500,
  ipiReschedNs: 60,
  ipiIrqWorkNs: 500,
  ipiLatencyNs: 1000,
  kernelEntryNs: 150,
  kernelExitNs: 150,
  syscallNs: 300,
  pageOpNs: 250,
  spuriousTimerNs: 1000,
  kworkerWorkNs: 7000,
  contextSwitchNs: 1200,
  schedMinGranularityNs: 750_000,
  schedLatencyNs: 6_000_000,
  schedRtRuntimeNs: 950_000_000,
  schedRtPeriodNs: 1_000_000_000,
  clockeventOneshotStopped: false,
  tickDepRcu: false,
  tickDepKickAll: true,
});

const docs: Record<keyof Params, string> = {
  hz: "CONFIG_HZ: tick frequency (100, 250, 300 or 1000)",
  tickHandlerNs: "tick handler cost, ns",
  ipiHandlerNs: "call-function IPI handler cost, ns",
  ipiReschedNs: "reschedule IPI handler cost, ns",
  ipiIrqWorkNs: "irq_work IPI handler cost (tick-dependency kick), ns",
  ipiLatencyNs: "IPI delivery latency, ns",
  kernelEntryNs: "kernel entry cost from user/idle, ns",
  kernelExitNs: "kernel exit cost to user, ns",
  syscallNs: "cheap syscall body (getpid), ns",
  pageOpNs: "cost per page written, faulted or mlocked in a syscall, ns",
  spuriousTimerNs: "timer interrupt that finds no expired hrtimer, ns",
  kworkerWorkNs: "one kworker work item (vmstat_update, lru_add_drain_per_cpu), ns",
  contextSwitchNs: "context switch cost, ns",
  schedMinGranularityNs: "CFS min granularity before log scaling, ns",
  schedLatencyNs: "CFS sched latency before log scaling, ns",
  schedRtRuntimeNs: "RT throttling runtime per period, ns (-1 = off)",
  schedRtPeriodNs: "RT throttling period, ns",
  clockeventOneshotStopped: "clock event devices support ONESHOT_STOPPED",
  tickDepRcu: "TICK_DEP_BIT_RCU exists (v5.10+)",
  tickDepKickAll: "task-level tick dependencies kick every nohz_full CPU (4.9)",
};

/** Converts a camelCase parameter key to the snake_case name of scenario files. */
export function paramName(key: keyof Params): string {
  return key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** The catalogue of parameters with defaults and docs, in declaration order. */
export function paramCatalogue(): ParamInfo[] {
  return (Object.keys(defaultParams) as (keyof Params)[]).map((k) => {
    const v = defaultParams[k];
    const info: ParamInfo = { name: paramName(k), default: v, doc: docs[k] };
    if (typeof v === "number") info.min = k === "schedRtRuntimeNs" ? -1 : k === "hz" ? 1 : 0;
    return info;
  });
}

/** Error in user-given input: names the field, the value and what is valid. */
export class InputError extends Error {
  constructor(
    /** Path of the offending field, e.g. `kernel.params.hz`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "InputError";
  }
}

/** Resolves snake_case overrides on top of base parameters; unknown or ill-typed ones are errors. */
export function resolveParams(base: Params, overrides: Record<string, unknown> | undefined, field = "kernel.params"): Params {
  const out: Params = { ...base };
  if (!overrides) return out;
  const byName = new Map(paramCatalogue().map((p) => [p.name, p] as const));
  for (const [name, value] of Object.entries(overrides)) {
    const info = byName.get(name);
    const key = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Params;
    if (!info) {
      throw new InputError(`${field}.${name}`, `unknown parameter (valid: ${[...byName.keys()].join(", ")})`);
    }
    if (typeof info.default === "boolean") {
      if (typeof value !== "boolean") throw new InputError(`${field}.${name}`, `${JSON.stringify(value)} is not valid (valid: true or false)`);
      (out as unknown as Record<string, unknown>)[key] = value;
    } else {
      if (typeof value !== "number" || !Number.isInteger(value) || value < (info.min ?? 0)) {
        throw new InputError(`${field}.${name}`, `${JSON.stringify(value)} is not valid (valid: an integer >= ${info.min ?? 0})`);
      }
      if (name === "hz" && ![100, 250, 300, 1000].includes(value)) {
        throw new InputError(`${field}.${name}`, `${value} is not valid (valid: 100, 250, 300, 1000)`);
      }
      (out as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}
