/** The interruption sources of the report contract (`interruptions` keys), in report order. */
export const interruptionKeys = [
  "tick",
  "spurious_timer",
  "ipi_tlb_flush",
  "ipi_irq_work",
  "ipi_call_function",
  "ipi_resched",
  "kworker_lru_drain",
  "kworker_vmstat",
  "kworker_other",
  "kthread",
  "rcu",
  "hrtimer",
] as const;

/** One interruption source key of the report contract. */
export type InterruptionKey = (typeof interruptionKeys)[number];

/** Numeric index of each interruption source, for allocation-free counting. */
export const Src: { readonly [K in InterruptionKey]: number } = Object.freeze(
  Object.fromEntries(interruptionKeys.map((k, i) => [k, i])) as { [K in InterruptionKey]: number },
);

/** Sentinel: a segment that is not an interruption of its own. */
export const NO_SOURCE = -1;

/** Reasons a tick was kept (`tick.kept_by` keys), as traced by trace_tick_stop(0, dep). */
export const tickKeptByKeys = [
  "POSIX_TIMER",
  "PERF_EVENTS",
  "SCHED",
  "CLOCK_UNSTABLE",
  "RCU",
  "RCU_EXP",
  "TIMER",
  "MAX_DEFERMENT",
  "TIMEKEEPING",
] as const;

/** One reason a tick could not stop. */
export type TickKeptBy = (typeof tickKeptByKeys)[number];

/** Numeric index of each tick-kept reason; the first six are TICK_DEP_BIT_* in kernel order. */
export const Kept: { readonly [K in TickKeptBy]: number } = Object.freeze(
  Object.fromEntries(tickKeptByKeys.map((k, i) => [k, i])) as { [K in TickKeptBy]: number },
);
