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
  /** PREEMPT_RT lazy preemption (v6.13 "sched: Add Lazy preemption model"; in 6.12-rt): a CFS wakeup sets TIF_NEED_RESCHED_LAZY, no reschedule IPI. */
  preemptLazy: boolean;
  /** rcutree.use_softirq (v5.2 "rcu: Allow to eliminate softirq processing from rcutree"; default !PREEMPT_RT): false = RCU core work in rcuc/N kthreads. */
  rcuUseSoftirq: boolean;
  /** CONFIG_RCU_BOOST (`default y if PREEMPT_RT`): one rcub/N kthread per leaf rcu_node; rcuc/N run SCHED_FIFO (kthread_prio 1). */
  rcuBoost: boolean;
  /**
   * CONFIG_RCU_LAZY (v6.2 "rcu: Make call_rcu() lazy to save power"; on in Debian's 6.12): call_rcu()
   * on an offloaded CPU queues to the rdp's bypass list as a lazy callback and, instead of waking
   * the GP kthread, arms its `nocb_timer` for jiffies_lazy_flush (rcu_nocb_try_bypass(),
   * wake_nocb_gp_defer(RCU_NOCB_WAKE_LAZY) in kernel/rcu/tree_nocb.h). 4.9/6.1: false.
   */
  rcuLazy: boolean;
  /** jiffies_lazy_flush (LAZY_FLUSH_JIFFIES = 10 * HZ, kernel/rcu/tree_nocb.h): longest a lazy bypass list waits before it is flushed, ns (used only with rcuLazy). */
  rcuLazyFlushNs: number;
  /**
   * The expedited-GP kthread workers (v6.0 "rcu: Move expedited grace period (GP) work to RT
   * kthread_worker"; one per leaf rcu_node from v6.9 "rcu/exp: Make parallel exp gp kworker per rcu
   * node"; 6.12 tree.c rcu_start_exp_gp_kworker(), rcu_spawn_exp_par_gp_kworker()):
   * `rcu_exp_gp_kthread_worker` and `rcu_exp_par_gp_kthread_worker/N` (N: the leaf's index in the
   * rcu_node array), unconditionally in 6.12. 4.9 runs expedited GPs in the caller and workqueues,
   * and 6.1 spawns its two workers only under CONFIG_RCU_EXP_KTHREAD (RCU_BOOST && RCU_EXPERT, off
   * in Debian's generic 6.1): false.
   */
  rcuExpKthreadWorkers: boolean;
  /**
   * The tasks-RCU kthreads (kernel/rcu/tasks.h rcu_spawn_tasks_kthread_generic(): `rcu_tasks_kthread`,
   * `rcu_tasks_rude_kthread`, `rcu_tasks_trace_kthread`; v5.8 "rcu-tasks: Add an RCU Tasks Trace
   * to simplify protection of tracing hooks" completes the three). 4.9: false.
   */
  rcuTasksKthreads: boolean;
  /**
   * rq->fair_server's dl_runtime (v6.12 "sched/fair: Add trivial fair server", "sched/deadline:
   * Deferrable dl server"; /sys/kernel/debug/sched/fair_server/cpuN/runtime), ns: 0 = no fair server
   * (4.9, 6.1, and the 6.12 workaround); 6.12: 50 ms.
   */
  fairServerRuntimeNs: number;
  /** rq->fair_server's dl_period and dl_deadline (v6.12 "sched/fair: Fair server interface"; debugfs fair_server/cpuN/period), ns: 1 s. */
  fairServerPeriodNs: number;
  /**
   * Enqueueing the fair server counts in rq->nr_running (add_nr_running() in inc_dl_tasks(), so
   * sched_update_tick_dependency() kicks a nohz_full CPU): true up to 6.16; false from v6.17
   * "sched/deadline: Don't count nr_running for dl_server proxy tasks". Only matters with a fair server.
   */
  dlServerCountsNrRunning: boolean;
  /**
   * dl_server_timer() charges the running fair task (update_curr()) before deciding to enqueue the
   * server: false up to 6.18 (6.12); true from v6.19 "sched/deadline: Fix dl_server time accounting".
   */
  dlServerTimerUpdatesCurr: boolean;
  /**
   * One RCU flavour (v4.20 consolidation: "rcu: Define RCU-bh update API in terms of RCU", "rcu:
   * Define RCU-sched API in terms of RCU for Tree RCU PREEMPT builds"): a single rcu_state,
   * `rcu_preempt` under CONFIG_PREEMPT_RCU else `rcu_sched`, with one GP kthread (kernel/rcu/tree.c
   * `rcu_state`, RCU_NAME); 4.9 has rcu_sched, rcu_bh and (CONFIG_PREEMPT_RCU) rcu_preempt.
   */
  rcuFlavoursMerged: boolean;
  /**
   * rcu_pending() ignores RCU on a nohz_full CPU only when the tick interrupted user or idle (6.1
   * kernel/rcu/tree.c rcu_pending(): `(user || rcu_is_cpu_rrupt_from_idle()) && rcu_nohz_full_cpu()`);
   * 4.9 __rcu_pending() ignores it in any context while the grace period is younger than HZ jiffies.
   */
  rcuPendingNohzFullUserOnly: boolean;
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
  preemptLazy: false,
  rcuUseSoftirq: true,
  rcuBoost: false,
  rcuLazy: false,
  rcuLazyFlushNs: 10_000_000_000,
  rcuExpKthreadWorkers: false,
  rcuTasksKthreads: false,
  fairServerRuntimeNs: 0,
  fairServerPeriodNs: 1_000_000_000,
  dlServerCountsNrRunning: true,
  dlServerTimerUpdatesCurr: false,
  rcuFlavoursMerged: false,
  rcuPendingNohzFullUserOnly: false,
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
  preemptLazy:
    "PREEMPT_LAZY (v6.13 \"sched: Add Lazy preemption model\", in the 6.12 PREEMPT_RT build): a CFS task woken onto a CFS task's CPU sets TIF_NEED_RESCHED_LAZY and sends no reschedule IPI; the switch comes at the next return to user mode or the next tick (4.9/6.1/6.12: false)",
  rcuUseSoftirq:
    "rcutree.use_softirq (v5.2 \"rcu: Allow to eliminate softirq processing from rcutree\"; default off with PREEMPT_RT: 6.12 kernel/rcu/tree.c `use_softirq = !IS_ENABLED(CONFIG_PREEMPT_RT)`): false = invoke_rcu_core() wakes the CPU's rcuc/N kthread (SCHED_FIFO with RCU_BOOST) instead of raising RCU_SOFTIRQ (6.12-rt: false)",
  rcuBoost:
    "CONFIG_RCU_BOOST (kernel/rcu/Kconfig: `default y if PREEMPT_RT`; needs PREEMPT_RCU): an rcub/N priority-boost kthread per leaf rcu_node (rcu_spawn_one_boost_kthread()) (6.12-rt: true)",
  rcuLazy: "CONFIG_RCU_LAZY (v6.2 \"rcu: Make call_rcu() lazy to save power\"): call_rcu() on an offloaded CPU is batched in a lazy bypass list flushed after rcu_lazy_flush_ns, no rcuo/rcuog wakeup per call (4.9/6.1: false; 6.12: true)",
  rcuLazyFlushNs: "jiffies_lazy_flush (LAZY_FLUSH_JIFFIES = 10 s): longest a lazy bypass list waits before its grace period is requested, ns (only with rcu_lazy)",
  rcuExpKthreadWorkers: "expedited RCU kthread workers rcu_exp_gp_kthread_worker and rcu_exp_par_gp_kthread_worker/N per leaf rcu_node exist (6.12 tree.c, v6.9 per node; 4.9 and Debian 6.1 without CONFIG_RCU_EXP_KTHREAD: false)",
  rcuTasksKthreads: "tasks-RCU kthreads rcu_tasks_kthread, rcu_tasks_rude_kthread, rcu_tasks_trace_kthread exist (kernel/rcu/tasks.h, v5.8+; 4.9: false)",
  fairServerRuntimeNs: "fair server (deferred dl server for CFS tasks, v6.12) runtime per period, ns; 0 = none (4.9, 6.1; the 6.12 workaround through debugfs)",
  fairServerPeriodNs: "fair server period and relative deadline, ns (6.12: 1 s)",
  dlServerCountsNrRunning: "enqueueing the fair server adds to nr_running and so kicks a tickless nohz_full CPU's tick (6.12: true; v6.17: false)",
  dlServerTimerUpdatesCurr: "the fair server's timer charges the running task (update_curr()) before enqueueing the server (6.12: false; v6.19: true)",
  rcuFlavoursMerged: "one RCU flavour and GP kthread (v4.20 flavour consolidation); 4.9: rcu_sched, rcu_bh and rcu_preempt",
  rcuPendingNohzFullUserOnly: "rcu_pending() ignores RCU on a nohz_full CPU only in user or idle (6.1): a tick in the kernel reports the quiescent state; 4.9: in any context",
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
