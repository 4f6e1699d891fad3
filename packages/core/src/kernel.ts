import { Engine } from "./engine/engine.js";
import type { Nanoseconds } from "./engine/engine.js";
import { Cpu, CPU_TIME_SLOTS } from "./machine/cpu.js";
import { CpuMask } from "./machine/cpumask.js";
import type { Housekeeping } from "./machine/housekeeping.js";
import { CpuExecutor } from "./machine/exec.js";
import { InterruptController } from "./irq/irq.js";
import { Scheduler } from "./sched/core.js";
import type { Task } from "./sched/task.js";
import { TimerBases } from "./time/timer.js";
import { ClockEvents } from "./time/clockevents.js";
import { TickSchedState } from "./time/tick-sched.js";
import { NoiseAccounting } from "./accounting/noise.js";
import { InvariantRegistry } from "./invariants/registry.js";
import { KernelEntry } from "./arch/x86/entry.js";
import { Rcu } from "./rcu/tree.js";
import type { RcuCallback } from "./rcu/tree.js";
import { KernelTlb } from "./arch/x86/tlb.js";
import { KernelVmalloc } from "./mm/vmalloc.js";
import { Workqueues } from "./workqueue/workqueue.js";
import { Lru } from "./mm/swap.js";
import { PerCpuPages } from "./mm/page_alloc.js";
import { Vmstat } from "./mm/vmstat.js";
import type { Mechanism } from "./mechanism.js";
import { checkComposition } from "./mechanism.js";
import type { Params } from "./params.js";
import type { TraceSink } from "./trace.js";

/** What a kernel is built from: the machine, its boot masks, parameters and mechanisms. */
export interface KernelConfig {
  /** Number of CPUs (1..8192). */
  nrCpus: number;
  /** Boot-time masks (housekeepingSetup()). */
  housekeeping: Housekeeping;
  /** Resolved parameters. */
  params: Params;
  /** Mechanisms to install, in order. */
  mechanisms: readonly Mechanism[];
  /** PRNG seed. */
  seed: number;
  /** Start of the measured window, ns. */
  warmup: Nanoseconds;
  /** Preset name (echoed in reports). */
  preset: string;
  /** Where to send trace records, if anywhere. */
  trace?: TraceSink | null;
}

/** Named extension points where subsystems and mechanisms add behaviour. */
export interface KernelHooks {
  /** exit_to_user_mode_prepare(): runs before every return to user mode (interrupts disabled). */
  readonly exitToUserMode: ((cpu: number, task: Task) => void)[];
  /** update_process_times(): runs in every tick handler (rcu_check_callbacks() and friends). */
  readonly tick: ((cpu: number) => void)[];
  /** First stop of a CPU's tick (ts->tick_stopped 0 → 1): calc_load_nohz_start(), quiet_vmstat() (4.17+). */
  readonly tickStopped: ((cpu: number) => void)[];
  /** __schedule() on `cpu`, even when it picks the same task: rcu_note_context_switch() and friends. */
  readonly contextSwitch: ((cpu: number) => void)[];
  /** irq_exit() on `cpu`, after softirqs and before the tick is re-evaluated. */
  readonly irqExit: ((cpu: number) => void)[];
  /** do_idle() on `cpu` entering the idle loop, before tick_nohz_idle_enter() (4.9: quiet_vmstat()). */
  readonly idleEnter: ((cpu: number) => void)[];
  /** try_to_wake_up() woke `task` from CPU `from` (trace_sched_wakeup). */
  readonly schedWakeup: ((task: Task, from: number) => void)[];
  /** __schedule() on `cpu` switched from `prev` to `next` (trace_sched_switch; null is the idle task). */
  readonly schedSwitch: ((cpu: number, prev: Task | null, next: Task | null) => void)[];
  /** rcu_gp_cleanup(): a grace period of flavour `flavour` that started at `startNs` ended now (trace_rcu_grace_period "end"). */
  readonly rcuGpEnd: ((flavour: number, startNs: Nanoseconds) => void)[];
  /** __rcu_reclaim(): `cb` is being invoked (trace_rcu_invoke_callback). */
  readonly rcuInvokeCallback: ((cb: RcuCallback) => void)[];
  /** Runs once when the kernel has booted, before the workload starts. */
  readonly boot: (() => void)[];
  /** Runs when the simulation ends (final checks, statistics). */
  readonly finish: (() => void)[];
}

/** Housekeeping work done on behalf of isolated CPUs, in the measured window. */
export interface HousekeepingStats {
  /** sched_tick_remote() runs. */
  remoteTicks: number;
  /** lru_add_drain_all() calls. */
  lruDrains: number;
  /** flush_tlb_kernel_range() calls. */
  tlbFlushes: number;
  /** Time housekeeping CPUs spent on work for isolated CPUs, ns. */
  noiseNs: Nanoseconds;
}

/** The simulated kernel: machine, subsystems, extension points. Mechanisms receive it in install(). */
export class Kernel {
  /** The event engine. */
  readonly engine: Engine;
  /** Parameters in force. */
  readonly params: Params;
  /** nr_cpu_ids. */
  readonly nrCpus: number;
  /** The boot CPU (timekeeping). */
  readonly bootCpu = 0;
  /** TICK_NSEC. */
  readonly tickPeriod: Nanoseconds;
  /** Boot masks. */
  readonly hk: Housekeeping;
  /** CPU states. */
  readonly cpus: Cpu[];
  /** Start of the measured window. */
  readonly warmup: Nanoseconds;
  /** Preset name. */
  readonly preset: string;
  /** Installed mechanisms, in order. */
  readonly mechanisms: readonly Mechanism[];
  /** Trace sink, or null. */
  readonly trace: TraceSink | null;
  /** CPU whose code is executing now (for the sender of IPIs and kicks). */
  executingCpu = 0;
  /** Extension points. */
  readonly hooks: KernelHooks = { exitToUserMode: [], tick: [], tickStopped: [], contextSwitch: [], irqExit: [], idleEnter: [], schedWakeup: [], schedSwitch: [], rcuGpEnd: [], rcuInvokeCallback: [], boot: [], finish: [] };
  /** Housekeeping counters (report `housekeeping`). */
  readonly housekeepingStats: HousekeepingStats = { remoteTicks: 0, lruDrains: 0, tlbFlushes: 0, noiseNs: 0 };
  /** Mechanism-specific figures, by mechanism name (report `mechanism_stats`). */
  readonly mechanismStats = new Map<string, () => Record<string, unknown>>();
  /** Noise accounting. */
  readonly accounting: NoiseAccounting;
  /** Invariant checking. */
  readonly invariants: InvariantRegistry;
  /** Interrupts and IPIs. */
  readonly irq: InterruptController;
  /** CPU execution. */
  readonly exec: CpuExecutor;
  /** Scheduler. */
  readonly sched: Scheduler;
  /** Timer wheels. */
  readonly timers: TimerBases;
  /** Clock event devices. */
  readonly clockevents: ClockEvents;
  /** Tick (periodic and nohz). */
  readonly tick: TickSchedState;
  /** Kernel entry steps. */
  readonly entry: KernelEntry;
  /** Tree RCU: GP kthreads, quiescent states, callbacks and their offloading (kernel/rcu/tree.c). */
  readonly rcu: Rcu;
  /** Kernel TLB: per-CPU cached kernel translations and the flushKernelRange policy (arch/x86/mm/tlb.c). */
  readonly tlb: KernelTlb;
  /** vmalloc space and its lazy purge (mm/vmalloc.c). */
  readonly vmalloc: KernelVmalloc;
  /** Workqueues and kworkers (kernel/workqueue.c). */
  readonly workqueue: Workqueues;
  /** Per-CPU LRU batches and the lru.drainAll policy (mm/swap.c). */
  readonly lru: Lru;
  /** Per-CPU vm statistics, vmstat_update and the shepherd (mm/vmstat.c). */
  readonly vmstat: Vmstat;
  /** Per-CPU page lists and drain_all_pages() (mm/page_alloc.c). */
  readonly pcp: PerCpuPages;
  /**
   * Policy: latest time a busy nohz_full CPU may defer its tick (4.9 scheduler_tick_max_deferment():
   * last scheduler tick + 1 s); Infinity when nothing caps it (remote-stats replaces it).
   */
  maxDeferment: (cpu: number) => Nanoseconds;
  /** Policy: the next event RCU needs on `cpu` (rcu_needs_cpu()), Infinity when none. */
  rcuNextEvent: (cpu: number) => Nanoseconds = () => Infinity;

  constructor(cfg: KernelConfig) {
    checkComposition(cfg.mechanisms);
    this.engine = new Engine(cfg.seed);
    this.params = cfg.params;
    this.nrCpus = cfg.nrCpus;
    this.tickPeriod = Math.floor((1_000_000_000 + cfg.params.hz / 2) / cfg.params.hz);
    this.hk = cfg.housekeeping;
    this.warmup = cfg.warmup;
    this.preset = cfg.preset;
    this.mechanisms = cfg.mechanisms;
    this.trace = cfg.trace ?? null;
    // Every CPU's runningSince, userSince and noiseSince in one array, three slots per CPU.
    const cpuTimes = new Float64Array(CPU_TIME_SLOTS * cfg.nrCpus);
    this.cpus = Array.from({ length: cfg.nrCpus }, (_, i) => new Cpu(i, cfg.housekeeping.nohzFull.has(i), cpuTimes, CPU_TIME_SLOTS * i, this.engine));
    this.accounting = new NoiseAccounting(this);
    this.invariants = new InvariantRegistry(this);
    this.irq = new InterruptController(this);
    this.exec = new CpuExecutor(this);
    this.sched = new Scheduler(this);
    this.timers = new TimerBases(this);
    this.clockevents = new ClockEvents(this);
    this.tick = new TickSchedState(this);
    this.entry = new KernelEntry(this);
    this.rcu = new Rcu(this);
    this.tlb = new KernelTlb(this);
    this.vmalloc = new KernelVmalloc(this);
    this.workqueue = new Workqueues(this);
    this.vmstat = new Vmstat(this);
    this.lru = new Lru(this);
    this.pcp = new PerCpuPages(this);
    const hz = this.tickPeriod * cfg.params.hz;
    this.maxDeferment = (cpu) => this.tick.ts[cpu]!.lastSchedTick + hz;
    for (const m of cfg.mechanisms) m.install(this);
  }

  /** Whether now lies in the measured window. */
  measuring(): boolean {
    return this.engine.now >= this.warmup;
  }

  /** The CPU executing the current code. */
  currentCpu(): number {
    return this.executingCpu;
  }

  /** CPUs in nohz_full, as a mask. */
  get nohzFull(): CpuMask {
    return this.hk.nohzFull;
  }

  /** Boots: starts the tick on every CPU and runs boot hooks; CPUs start idle. */
  boot(): void {
    this.tick.boot();
    for (const h of this.hooks.boot) h();
    for (const c of this.cpus) if (!c.curr) this.tick.idleEnter(c.id);
  }

  /** Ends the run: closes accounting and runs final checks. */
  finish(): void {
    this.accounting.finish();
    this.tick.finish();
    for (const h of this.hooks.finish) h();
    for (const f of this.invariants.atEnd) f();
  }
}
