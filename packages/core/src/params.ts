/**
 * Named, documented, overridable model parameters (defaults from shared/kernel-model.md §9).
 * Scenario files name them in snake_case (`tick_handler_ns`); the TypeScript API in camelCase.
 * Their valid ranges live in the limits table (limits.ts {@link paramLimits}).
 */
import { checkLimit, describeLimit, paramLimits } from "./limits.js";

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
  /** Cost per page of vmalloc() or vfree() (page allocation or free plus the PTE update, mm/vmalloc.c), ns. */
  vmallocPageNs: number;
  /** A full kernel TLB flush on one CPU (__flush_tlb_all(); also the flush at kernel entry), ns. */
  tlbFlushAllNs: number;
  /** One INVLPG of a kernel page (__flush_tlb_single(), ~300 cycles), ns. */
  invlpgNs: number;
  /** tlb_single_page_flush_ceiling (arch/x86/mm/tlb.c): above this many pages flush_tlb_kernel_range() flushes all. */
  tlbSinglePageFlushCeiling: number;
  /** Kernel vmalloc translations one CPU keeps cached in its TLB (least recently used evicted). */
  tlbKernelEntries: number;
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
  /** The idle loop polls TIF_NEED_RESCHED (mwait idle, idle=poll): waking an idle CPU needs no IPI (set_nr_if_polling()); false models HLT or a VM guest. */
  idlePoll: boolean;
  /** SCHED_FEAT(RT_RUNTIME_SHARE): an rt_rq borrows spare runtime from the others (true until v5.10, kernel/sched/features.h). */
  rtRuntimeShare: boolean;
  /** Whether clock event devices implement set_state_oneshot_stopped (x86 LAPIC: v4.12+). */
  clockeventOneshotStopped: boolean;
  /** Whether the tick has TICK_DEP_BIT_RCU (v5.10+); 4.9 does not. */
  tickDepRcu: boolean;
  /** Whether task/signal-level tick dependencies kick every nohz_full CPU (4.9 tick_nohz_full_kick_all()). */
  tickDepKickAll: boolean;
  /** CONFIG_PREEMPT_RCU: a third RCU flavour, rcu_preempt, takes call_rcu() (4.9 with CONFIG_PREEMPT=y: 3 flavours; false: rcu_sched and rcu_bh). */
  preemptRcu: boolean;
  /** jiffies_till_sched_qs (kernel/rcu/tree.c; 4.9: HZ/20 = 50 ms), ns rounded down to jiffies: GP age after which FQS forces a CPU in the kernel. */
  rcuJiffiesTillSchedQsNs: number;
  /** CONFIG_RCU_CPU_STALL_TIMEOUT (4.9: 21 s): stall-warning time; 4.9 resched_cpu()s holdouts again from half of it. */
  rcuCpuStallTimeoutNs: number;
  /** rcu_nocb_leader_stride (4.9 tree_plugin.h); 0 means the kernel default int_sqrt(nr_cpu_ids). */
  rcuNocbLeaderStride: number;
  /** Cost of rcu_gp_init() or rcu_gp_cleanup() in the GP kthread, ns. */
  rcuGpKthreadNs: number;
  /** Cost per CPU examined by a force-quiescent-state scan (force_qs_rnp() reading one dynticks counter), ns. */
  rcuFqsPerCpuNs: number;
  /** Cost of one RCU_SOFTIRQ run (rcu_process_callbacks() bookkeeping, callbacks excluded), ns. */
  rcuSoftirqNs: number;
  /** Cost of invoking one RCU callback (__rcu_reclaim()), ns. */
  rcuCallbackNs: number;
  /** Cost of one pass of an rcuo kthread's bookkeeping (nocb_leader_wait() moving lists, rcu_nocb_wait_gp()), ns. */
  rcuNocbKthreadNs: number;
  /** Cost of one sched_tick_remote() work item on a housekeeping CPU (task_tick + calc_load_nohz_remote under the remote rq lock), ns. */
  remoteTickNs: number;
  /** Cost of the TIMER softirq run_timer_softirq() running expired timer_list callbacks, ns. */
  timerSoftirqNs: number;
  /** Cost of wq_barrier_func() (complete() of a flush_work() waiter) in a kworker, ns. */
  wqBarrierNs: number;
  /** Caller's cost of one queue_work_on() (insert_work() and the kworker wakeup), ns. */
  queueWorkNs: number;
  /** Caller's cost of one flush_work() (insert_wq_barrier() and wait_for_completion() setup), ns. */
  flushWorkNs: number;
  /** Workqueue watchdog threshold (wq_watchdog_thresh, 30 s): a flush_work() waiting longer violates workqueue-progress, ns. */
  workqueueStallNs: number;
  /** A flush_work() still waiting at the end of the run whose kworker has not run since it began is reported once it waited this long, ns. */
  workqueueStarvedNs: number;
  /** PAGEVEC_SIZE: capacity of a per-CPU LRU batch (4.9: 14; 4.19-6.5: 15; 6.12 folio batch: 31). */
  pagevecSize: number;
  /** lru_add_drain_all() shares drains between concurrent callers through lru_drain_gen (v5.11+; 4.9: false). */
  lruDrainGen: boolean;
  /** mlock() calls lru_add_drain_all() first (4.9 do_mlock(); not 6.1). */
  mlockDrainsAll: boolean;
  /** mlock'd pages go through a per-CPU batch (v5.18+ mlock_fbatch); 4.9 puts them straight on the unevictable list. */
  mlockBatch: boolean;
  /** sysctl_stat_interval (HZ): period of vmstat_update re-arming and of vmstat_shepherd, ns. */
  vmstatIntervalNs: number;
  /** Managed memory of the zone, MiB (input of calculate_normal_threshold()). */
  vmstatManagedMb: number;
  /** quiet_vmstat() runs at the first tick stop (v4.17+); 4.9 calls it only from the idle loop. */
  vmstatQuietAtTickStop: boolean;
  /** need_update() also checks per-node diffs (later kernels); 4.9 checks zone diffs only. */
  vmstatNeedUpdateNodes: boolean;
  /** THREAD_SIZE (arch/x86/include/asm/page_64_types.h: 16 KiB on x86_64 since v3.15): kernel stack held by each kthread, bytes. */
  threadSizeBytes: number;
  /**
   * Page-table isolation (CONFIG_PAGE_TABLE_ISOLATION, v4.15+): kernel entry switches to the kernel
   * CR3 first (SWITCH_TO_KERNEL_CR3 in arch/x86/entry/entry_64.S); 4.9 has none.
   */
  pti: boolean;
  /**
   * rcu-callbacks-invoked: longest a call_rcu() callback may wait to be invoked after the grace period
   * that covers it ended, ns (a checker bound, not a kernel value: the kernel invokes at the next RCU
   * softirq or rcuo wakeup, within a few jiffies plus a CFS latency).
   */
  rcuCallbackInvokeBoundNs: number;
  /**
   * QPW (Tosatti, "Introduce QPW for per-cpu operations" v2, Mar 2026, pending: CONFIG_QPW with the
   * `qpw=1` boot option): per-CPU work such as the LRU batches is guarded by per-CPU spinlocks so it
   * can be done remotely; false in every released kernel. Only lru-spinlock-drain's `qpw` variant
   * models what it enables; `kernel.cmdline` `qpw=` sets it.
   */
  qpw: boolean;
}

/** Parameter metadata: default value, one-line documentation and valid range (from the limits table). */
export interface ParamInfo {
  /** snake_case name used in scenario files. */
  name: string;
  /** Default value (the linux-4.9 preset may override). */
  default: number | boolean;
  /** What the parameter is. */
  doc: string;
  /** Smallest valid value for numeric parameters (besides `off`, when the parameter has one). */
  min?: number;
  /** Largest valid value for numeric parameters. */
  max?: number;
  /** What is valid, as error messages say it (`an integer >= 0 and <= 1000000000 ns (0ns to 1s)`, `true, false`). */
  valid: string;
  /** Why the range is what it is, in one line. */
  why: string;
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
  vmallocPageNs: 250,
  tlbFlushAllNs: 280,
  invlpgNs: 100,
  tlbSinglePageFlushCeiling: 33,
  tlbKernelEntries: 64,
  spuriousTimerNs: 1000,
  kworkerWorkNs: 7000,
  contextSwitchNs: 1200,
  schedMinGranularityNs: 750_000,
  schedLatencyNs: 6_000_000,
  schedRtRuntimeNs: 950_000_000,
  schedRtPeriodNs: 1_000_000_000,
  rtRuntimeShare: true,
  idlePoll: false,
  clockeventOneshotStopped: false,
  tickDepRcu: false,
  tickDepKickAll: true,
  preemptRcu: true,
  rcuJiffiesTillSchedQsNs: 50_000_000,
  rcuCpuStallTimeoutNs: 21_000_000_000,
  rcuNocbLeaderStride: 0,
  rcuGpKthreadNs: 2000,
  rcuFqsPerCpuNs: 50,
  rcuSoftirqNs: 1000,
  rcuCallbackNs: 100,
  rcuNocbKthreadNs: 1000,
  remoteTickNs: 2000,
  timerSoftirqNs: 500,
  wqBarrierNs: 300,
  queueWorkNs: 500,
  flushWorkNs: 300,
  workqueueStallNs: 30_000_000_000,
  workqueueStarvedNs: 1_000_000_000,
  pagevecSize: 14,
  lruDrainGen: false,
  mlockDrainsAll: true,
  mlockBatch: false,
  vmstatIntervalNs: 1_000_000_000,
  vmstatManagedMb: 4096,
  vmstatQuietAtTickStop: false,
  vmstatNeedUpdateNodes: false,
  threadSizeBytes: 16384,
  pti: false,
  rcuCallbackInvokeBoundNs: 1_000_000_000,
  qpw: false,
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
  vmallocPageNs: "cost per page of vmalloc() or vfree(), ns",
  tlbFlushAllNs: "full kernel TLB flush on one CPU (do_flush_tlb_all, flush at entry), ns",
  invlpgNs: "INVLPG of one kernel page (~300 cycles), ns",
  tlbSinglePageFlushCeiling: "tlb_single_page_flush_ceiling: pages above which a kernel range flush flushes all",
  tlbKernelEntries: "kernel vmalloc translations cached per CPU TLB (LRU)",
  spuriousTimerNs: "timer interrupt that finds no expired hrtimer, ns",
  kworkerWorkNs: "one kworker work item (vmstat_update, lru_add_drain_per_cpu), ns",
  contextSwitchNs: "context switch cost, ns",
  schedMinGranularityNs: "CFS min granularity before log scaling, ns",
  schedLatencyNs: "CFS sched latency before log scaling, ns",
  schedRtRuntimeNs: "RT throttling runtime per period, ns (-1 = off)",
  schedRtPeriodNs: "RT throttling period, ns",
  idlePoll: "the idle loop polls need_resched (mwait, idle=poll): waking an idle CPU sends no reschedule IPI; false = HLT or a VM guest",
  rtRuntimeShare: "RT_RUNTIME_SHARE: a CPU's RT tasks borrow unused RT runtime from the other CPUs (4.9: on)",
  clockeventOneshotStopped: "clock event devices support ONESHOT_STOPPED",
  tickDepRcu: "TICK_DEP_BIT_RCU exists (v5.10+)",
  tickDepKickAll: "task-level tick dependencies kick every nohz_full CPU (4.9)",
  preemptRcu: "CONFIG_PREEMPT_RCU: rcu_preempt flavour exists and takes call_rcu() (4.9 CONFIG_PREEMPT=y: 3 flavours)",
  rcuJiffiesTillSchedQsNs: "jiffies_till_sched_qs as ns (4.9: HZ/20): GP age before FQS forces a CPU looping in the kernel",
  rcuCpuStallTimeoutNs: "CONFIG_RCU_CPU_STALL_TIMEOUT, ns (4.9: 21 s)",
  rcuNocbLeaderStride: "rcu_nocb_leader_stride; 0 = int_sqrt(nr_cpu_ids)",
  rcuGpKthreadNs: "rcu_gp_init()/rcu_gp_cleanup() cost in the GP kthread, ns",
  rcuFqsPerCpuNs: "force-quiescent-state scan cost per CPU examined, ns",
  rcuSoftirqNs: "RCU_SOFTIRQ bookkeeping cost (callbacks excluded), ns",
  rcuCallbackNs: "cost of invoking one RCU callback, ns",
  rcuNocbKthreadNs: "rcuo kthread bookkeeping pass (list moves, rcu_nocb_wait_gp), ns",
  remoteTickNs: "one sched_tick_remote() run on a housekeeping CPU (remote-stats), ns",
  timerSoftirqNs: "TIMER softirq (run_timer_softirq) cost, ns",
  wqBarrierNs: "wq_barrier_func (flush_work completion) in a kworker, ns",
  queueWorkNs: "caller cost of one queue_work_on() with the kworker wakeup, ns",
  flushWorkNs: "caller cost of one flush_work() (barrier insertion), ns",
  workqueueStallNs: "wq_watchdog_thresh: flush_work() waiting longer violates workqueue-progress, ns",
  workqueueStarvedNs: "flush still waiting at the end with its kworker starved since it began: reported after this long, ns",
  pagevecSize: "PAGEVEC_SIZE: per-CPU LRU batch capacity (4.9: 14, 4.19-6.5: 15, 6.12: 31)",
  lruDrainGen: "lru_add_drain_all() shares drains via lru_drain_gen (v5.11+)",
  mlockDrainsAll: "mlock() calls lru_add_drain_all() (4.9, not 6.1)",
  mlockBatch: "mlock'd pages go through a per-CPU batch (v5.18+ mlock_fbatch)",
  vmstatIntervalNs: "sysctl_stat_interval: vmstat_update re-arm and vmstat_shepherd period, ns",
  vmstatManagedMb: "managed memory per zone, MiB (vmstat threshold input)",
  vmstatQuietAtTickStop: "quiet_vmstat() at the first tick stop (v4.17+)",
  vmstatNeedUpdateNodes: "need_update() also checks per-node diffs (later kernels; 4.9: zone diffs only)",
  threadSizeBytes: "THREAD_SIZE: kernel stack per kthread, bytes (x86_64: 16384)",
  pti: "page-table isolation (v4.15+): kernel entry switches to the kernel CR3 first; 4.9: none",
  rcuCallbackInvokeBoundNs:
    "rcu-callbacks-invoked: a callback not invoked this long after its grace period ended is lost, and at the end every callback queued this long before must have run, ns (checker bound: invocation takes a few jiffies plus a CFS latency; 1 s is far below the 21 s stall timeout)",
  qpw: "QPW (pending series, Mar 2026: CONFIG_QPW, qpw=1): per-CPU work under per-CPU spinlocks, drained remotely; no released kernel",
};

/** Converts a camelCase parameter key to the snake_case name of scenario files. */
export function paramName(key: keyof Params): string {
  return key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** The catalogue of parameters with defaults and docs, in declaration order. */
export function paramCatalogue(): ParamInfo[] {
  return (Object.keys(defaultParams) as (keyof Params)[]).map((k) => {
    const v = defaultParams[k];
    const limit = paramLimits[k];
    const info: ParamInfo = { name: paramName(k), default: v, doc: docs[k], valid: limit ? describeLimit(limit) : "", why: limit?.why ?? "" };
    if (limit?.type === "integer") {
      info.min = limit.min;
      info.max = limit.max;
    }
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
    checkLimit(`${field}.${name}`, value, paramLimits[key]);
    (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}
