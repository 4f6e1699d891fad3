/**
 * Tree RCU (kernel/rcu/tree.c, tree_plugin.h; Linux 4.9 unless a parameter says otherwise):
 * one grace-period kthread per flavour on a housekeeping CPU, force-quiescent-state scans that read
 * each CPU's dynticks counter (the context-tracking word) instead of interrupting it, quiescent
 * states at the tick and at context switch, callbacks invoked in RCU_SOFTIRQ or, for rcu_nocbs
 * CPUs, handed to rcuo kthreads (./nocb.ts).
 */
import type { Kernel } from "../kernel.js";
import type { Nanoseconds } from "../engine/engine.js";
import { CT_RCU_WATCHING, CT_STATE_MASK, Context, CtState, segmentOf } from "../machine/cpu.js";
import type { Cpu } from "../machine/cpu.js";
import { Src } from "../accounting/sources.js";
import type { Task } from "../sched/task.js";
import { Policy } from "../sched/task.js";
import { timerSetup } from "../time/timer.js";
import type { TimerList } from "../time/timer.js";
import { SOFTIRQ_RCU, TickDep } from "../time/tick-sched.js";
import { onSyscall } from "../workload/workload.js";
import { spawnExpAndTasksKthreads } from "./kthreads.js";
import { NocbOffload, linux49NocbLayout } from "./nocb.js";
import type { NocbLayout } from "./nocb.js";
import { RcuChecker } from "./checks.js";

/** An RCU flavour: the struct rcu_state it stands for (4.9 rcu_sched_state, rcu_bh_state, rcu_preempt_state). */
export interface RcuFlavour {
  /** Index in {@link Rcu.states} (for_each_rcu_flavor() order). */
  readonly index: number;
  /** rsp->name, also the GP kthread's comm (`rcu_preempt`). */
  readonly name: "rcu_preempt" | "rcu_sched" | "rcu_bh";
  /** rsp->abbr, the letter of its rcuo kthreads (`rcuop/N`). */
  readonly abbr: "p" | "s" | "b";
  /** rsp->flavor_mask, its bit in the per-CPU rcu_sched_qs_mask. */
  readonly mask: number;
}

/**
 * The flavours of a 4.9 kernel in for_each_rcu_flavor() order (rcu_init_one() list_add()s each at the
 * head, so rcu_preempt, created last by __rcu_init_preempt(), comes first); flavor_mask bits follow
 * creation order: rcu_bh 1, rcu_sched 2, rcu_preempt 4. Without CONFIG_PREEMPT_RCU there is no rcu_preempt.
 * With `merged` (v4.20+, params.rcuFlavoursMerged) there is one rcu_state (kernel/rcu/tree.c
 * `rcu_state`, named by RCU_NAME: rcu_preempt under CONFIG_PREEMPT_RCU, else rcu_sched).
 */
export function rcuFlavours(preemptRcu: boolean, merged = false): RcuFlavour[] {
  if (merged) return [Object.freeze(preemptRcu ? { name: "rcu_preempt" as const, abbr: "p" as const, mask: 4, index: 0 } : { name: "rcu_sched" as const, abbr: "s" as const, mask: 2, index: 0 })];
  const all: Omit<RcuFlavour, "index">[] = [
    ...(preemptRcu ? [{ name: "rcu_preempt" as const, abbr: "p" as const, mask: 4 }] : []),
    { name: "rcu_sched", abbr: "s", mask: 2 },
    { name: "rcu_bh", abbr: "b", mask: 1 },
  ];
  return all.map((f, index) => Object.freeze({ ...f, index }));
}

/** One call_rcu() callback (struct rcu_head), with what the invariant checker needs to judge it. */
export interface RcuCallback {
  /** Sequence number, in call order. */
  readonly id: number;
  /** CPU that called call_rcu(). */
  readonly cpu: number;
  /** Flavour index it was queued on. */
  readonly flavour: number;
  /** When call_rcu() ran, ns. */
  readonly queuedAt: Nanoseconds;
  /** rsp->gpnum when it was queued: only grace periods numbered above it started after it. */
  readonly gpnumAtQueue: number;
  /** A lazy callback (CONFIG_RCU_LAZY call_rcu() on an offloaded CPU): its grace period may be requested only after jiffies_lazy_flush. */
  readonly lazy: boolean;
  /** ->completed value after which it may be invoked (rcu_cbs_completed()), -1 until assigned. */
  c: number;
}

/** The callback list of every CPU that never queued one (frozen: call_rcu() replaces it). */
const NO_CBS: RcuCallback[] = Object.freeze([]) as unknown as RcuCallback[];

/** Per-CPU, per-flavour RCU state (struct rcu_data, reduced). */
export interface RcuData {
  /** CPU number. */
  readonly cpu: number;
  /** rdp->gpnum: the grace period this CPU has noticed. */
  gpnum: number;
  /** rdp->completed: the last completed grace period this CPU has noticed. */
  completed: number;
  /** rdp->cpu_no_qs: no quiescent state seen since the CPU noticed the current grace period. */
  cpuNoQs: boolean;
  /** rdp->core_needs_qs: the current grace period still needs this CPU's report. */
  coreNeedsQs: boolean;
  /** rdp->dynticks_snap: the dynticks counter the first FQS scan of this grace period read. */
  dynticksSnap: number;
  /** rdp->cond_resched_completed: ->completed when rcu_sched_qs_mask was set (4.9). */
  condReschedCompleted: number;
  /** rdp->last_fqs_resched in jiffies (6.1: set when the CPU notices a grace period). */
  lastFqsResched: number;
  /** Callbacks of a non-offloaded CPU (rdp->nxtlist segments, reduced to their ->c numbers); a shared empty array until the first call_rcu(). */
  cbs: RcuCallback[];
}

/** One flavour's rcu_data fields of every CPU, in typed arrays indexed by CPU (no boxed numbers per CPU). */
class RcuDataTable {
  /** gpnum, completed, dynticksSnap, condReschedCompleted, lastFqsResched of CPU c at 5c..5c+4. */
  readonly nums: Float64Array;
  /** cpuNoQs, coreNeedsQs of CPU c at 2c, 2c+1. */
  readonly flags: Uint8Array;
  /** cbs of CPU c. */
  readonly cbs: RcuCallback[][];

  constructor(n: number) {
    this.nums = new Float64Array(5 * n);
    this.flags = new Uint8Array(2 * n);
    this.cbs = new Array<RcuCallback[]>(n).fill(NO_CBS);
    for (let cpu = 0; cpu < n; cpu++) this.flags[2 * cpu] = 1;
  }
}

/** One CPU's {@link RcuData}: accessors over its {@link RcuDataTable} slots. */
class RcuDataOf implements RcuData {
  /** The rcu_data of every CPU of `t`'s flavour, as objects over its slots. */
  static of(t: RcuDataTable): RcuData[] {
    return Array.from({ length: t.flags.length >> 1 }, (_, cpu) => new RcuDataOf(t, cpu));
  }

  constructor(
    private readonly t: RcuDataTable,
    readonly cpu: number,
  ) {}

  get gpnum(): number {
    return this.t.nums[5 * this.cpu]!;
  }

  set gpnum(v: number) {
    this.t.nums[5 * this.cpu] = v;
  }

  get completed(): number {
    return this.t.nums[5 * this.cpu + 1]!;
  }

  set completed(v: number) {
    this.t.nums[5 * this.cpu + 1] = v;
  }

  get dynticksSnap(): number {
    return this.t.nums[5 * this.cpu + 2]!;
  }

  set dynticksSnap(v: number) {
    this.t.nums[5 * this.cpu + 2] = v;
  }

  get condReschedCompleted(): number {
    return this.t.nums[5 * this.cpu + 3]!;
  }

  set condReschedCompleted(v: number) {
    this.t.nums[5 * this.cpu + 3] = v;
  }

  get lastFqsResched(): number {
    return this.t.nums[5 * this.cpu + 4]!;
  }

  set lastFqsResched(v: number) {
    this.t.nums[5 * this.cpu + 4] = v;
  }

  get cpuNoQs(): boolean {
    return this.t.flags[2 * this.cpu] === 1;
  }

  set cpuNoQs(v: boolean) {
    this.t.flags[2 * this.cpu] = v ? 1 : 0;
  }

  get coreNeedsQs(): boolean {
    return this.t.flags[2 * this.cpu + 1] === 1;
  }

  set coreNeedsQs(v: boolean) {
    this.t.flags[2 * this.cpu + 1] = v ? 1 : 0;
  }

  get cbs(): RcuCallback[] {
    return this.t.cbs[this.cpu]!;
  }

  set cbs(v: RcuCallback[]) {
    this.t.cbs[this.cpu] = v;
  }
}

/** rsp->gp_flags RCU_GP_FLAG_INIT: the GP kthread must start a grace period. */
export const RCU_GP_FLAG_INIT = 1;

/** The state of one flavour (struct rcu_state with a single rcu_node holding every CPU). */
export interface RcuState {
  /** Which flavour. */
  readonly flavour: RcuFlavour;
  /** rsp->gpnum: number of the last grace period started. */
  gpnum: number;
  /** rsp->completed: number of the last grace period completed (== gpnum when idle). */
  completed: number;
  /** rsp->gp_flags. */
  gpFlags: number;
  /** rsp->gp_start, jiffies. */
  gpStart: number;
  /** Start of the current grace period, ns. */
  gpStartNs: Nanoseconds;
  /** rsp->jiffies_force_qs: when the next FQS scan is due. */
  jiffiesForceQs: number;
  /** rsp->jiffies_resched (4.9): half the stall timeout after gp_start, then +5 at each pass that sets or keeps rcu_sched_qs_mask. */
  jiffiesResched: number;
  /** FQS scans done in this grace period (0: the next is rcu_gp_fqs(first_time)). */
  fqsPasses: number;
  /** rnp->qsmask: CPUs that still owe this grace period a quiescent state. */
  readonly qsmask: Uint8Array;
  /** Bits set in qsmask. */
  qsLeft: number;
  /** rnp->need_future_gp (reduced): highest ->completed some callback waits for. */
  needFutureGp: number;
  /** The GP kthread (rsp->gp_kthread), created at boot. */
  gpKthread: Task | null;
  /** The schedule_timeout() timer of the GP kthread's FQS wait (process_timeout). */
  readonly fqsTimer: TimerList;
  /** Per-CPU data. */
  readonly rda: RcuData[];
  /** Grace periods completed. */
  gpsCompleted: number;
  /** FQS scans run. */
  fqsScans: number;
}

/** RCU counters for tests and reports. */
export interface RcuStats {
  /** call_rcu() calls. */
  callbacksQueued: number;
  /** Callbacks invoked. */
  callbacksInvoked: number;
  /** resched_cpu() calls by FQS, per target CPU. */
  readonly reschedCpu: Int32Array;
  /** Times TICK_DEP_BIT_RCU was set, per CPU (6.1 path). */
  readonly tickDepSet: Int32Array;
}

/** rcu_dynticks counter part of a CPU's context-tracking word. */
export function dynticksCounter(c: Cpu): number {
  return Math.floor(c.ctWord / CT_RCU_WATCHING);
}

/**
 * Whether RCU sees `c` in an extended quiescent state (rcu_dynticks_in_eqs()): idle, or user mode on
 * a nohz_full CPU (only there does context tracking tell RCU about user mode).
 */
export function rcuInEqs(c: Cpu): boolean {
  const s = c.ctWord & CT_STATE_MASK;
  return s === CtState.idle || (s === CtState.user && c.nohzFull);
}

/** The RCU subsystem of a kernel (`kernel.rcu`). */
export class Rcu {
  /** Flavours, in for_each_rcu_flavor() order. */
  readonly flavours: readonly RcuFlavour[];
  /** Per-flavour state, indexed like {@link flavours}. */
  readonly states: readonly RcuState[];
  /** The flavour call_rcu() feeds: rcu_preempt under CONFIG_PREEMPT_RCU, else rcu_sched (include/linux/rcupdate.h). */
  readonly callRcuState: RcuState;
  /** CPU the GP and rcuo kthreads are bound to (4.9 rcu_bind_gp_kthread(): housekeeping_affine()). */
  readonly gpCpu: number;
  /** Per-CPU rcu_sched_qs_mask (4.9): flavours that asked this CPU for a momentary dyntick-idle. */
  readonly rcuSchedQsMask: Int32Array;
  /** Per-CPU rdp->rcu_urgent_qs (6.1 path, params.tickDepRcu). */
  readonly urgentQs: Uint8Array;
  /** Per-CPU rdp->rcu_forced_tick (6.1 path): this CPU set TICK_DEP_BIT_RCU on itself. */
  readonly forcedTick: Uint8Array;
  /** Counters. */
  readonly stats: RcuStats;
  /** Callback offloading (rcu_nocbs CPUs). */
  readonly nocb: NocbOffload;
  /** The invariant checker. */
  readonly checker: RcuChecker;
  /**
   * Policy: the rcuo kthreads to spawn and how offloaded callbacks route (rcu_organize_nocb_kthreads()
   * + rcu_spawn_all_nocb_kthreads()); read at boot, so a mechanism's install() may replace it.
   */
  nocbLayout: NocbLayout = linux49NocbLayout;
  /** Policy: the ->completed number a new callback must wait for (rcu_cbs_completed()). */
  cbsCompleted: (rsp: RcuState) => number = (rsp) => rsp.gpnum + 1;
  /**
   * Policy: whether an FQS scan finds `rdp`'s CPU quiescent from its dynticks counter: in EQS now, or
   * passed through one since the first scan's snapshot (dyntick_save_progress_counter(),
   * rcu_implicit_dynticks_qs() in 4.9: `(curr & 0x1) == 0 || UINT_CMP_GE(curr, snap + 2)`).
   */
  dynticksQs: (rsp: RcuState, rdp: RcuData) => boolean;
  /**
   * Policy: what an FQS scan does to a CPU that is not quiescent (tail of rcu_implicit_dynticks_qs()):
   * 4.9 sets rcu_sched_qs_mask and resched_cpu()s it; 6.1 (params.tickDepRcu) sets rcu_urgent_qs and
   * resched_cpu()s a nohz_full CPU at most every 3 × jiffies_till_sched_qs.
   */
  kickCpu: (rsp: RcuState, rdp: RcuData) => void;

  private nextCbId = 1;
  /** By pid, the task's wakeups when {@link kthreadWork} last queued work on it (-1: never); grown on demand. */
  private countedRun = new Float64Array(64).fill(-1);
  /** Per flavour, the rcu_data slots behind `rsp.rda` (hot paths read them without the per-CPU objects). */
  private readonly tables: RcuDataTable[];
  /** Index of rcu_sched in {@link states} (the flavour a tick outside user/idle is no quiescent state for). */
  private readonly schedIndex: number;
  /** Index of rcu_bh in {@link states} (the flavour a context switch is no quiescent state for). */
  private readonly bhIndex: number;
  /** The default {@link dynticksQs} (rcu_implicit_dynticks_qs()), which gpFqs() evaluates inline while it is in place. */
  private readonly defaultDynticksQs: (rsp: RcuState, rdp: RcuData) => boolean;
  /** Per CPU, 1 if it is nohz_full (tick_nohz_full_cpu(); read without touching the Cpu). */
  private readonly nohzFull: Uint8Array;
  /** Per flavour, the end of the GP kthread's rcu_gp_init() work (made once). */
  private readonly gpInitEnd: (() => void)[];
  /** Per flavour, the end of the GP kthread's rcu_gp_fqs() work (made once). */
  private readonly gpFqsEnd: (() => void)[];
  /** Per flavour, the end of the GP kthread's rcu_gp_cleanup() work (made once). */
  private readonly gpCleanupEnd: (() => void)[];
  /** Per CPU, its rcuc/N kthread (rdp->rcu_cpu_kthread_task; params.rcuUseSoftirq false), null until spawned. */
  readonly rcucTasks: (Task | null)[];
  /** The rcub/N priority-boost kthreads, one per leaf rcu_node (rnp->boost_kthread_task; params.rcuBoost). */
  readonly rcubTasks: Task[] = [];
  /** Per CPU, rdp->rcu_cpu_has_work. */
  private readonly rcucHasWork: Uint8Array;
  /** Per CPU, the end of its rcuc kthread's rcu_core() pass (made once). */
  private readonly rcucCoreEnd: (() => void)[];

  constructor(private readonly k: Kernel) {
    this.flavours = rcuFlavours(k.params.preemptRcu, k.params.rcuFlavoursMerged);
    this.gpCpu = k.hk.housekeeping.isEmpty() ? k.bootCpu : k.hk.housekeeping.first();
    const n = k.nrCpus;
    this.nohzFull = Uint8Array.from(k.cpus, (c) => (c.nohzFull ? 1 : 0));
    this.tables = this.flavours.map(() => new RcuDataTable(n));
    this.states = this.flavours.map((flavour) => {
      const rsp: RcuState = {
        flavour,
        gpnum: 0,
        completed: 0,
        gpFlags: 0,
        gpStart: 0,
        gpStartNs: 0,
        jiffiesForceQs: 0,
        jiffiesResched: 0,
        fqsPasses: 0,
        qsmask: new Uint8Array(n),
        qsLeft: 0,
        needFutureGp: 0,
        gpKthread: null,
        fqsTimer: timerSetup(`process_timeout:${flavour.name}`, () => {
          if (rsp.gpKthread) k.sched.wakeUp(rsp.gpKthread, this.gpCpu);
        }),
        rda: RcuDataOf.of(this.tables[flavour.index]!),
        gpsCompleted: 0,
        fqsScans: 0,
      };
      return rsp;
    });
    this.callRcuState = this.states[0]!;
    this.schedIndex = this.flavours.findIndex((f) => f.name === "rcu_sched");
    this.bhIndex = this.flavours.findIndex((f) => f.name === "rcu_bh");
    this.gpInitEnd = this.states.map((rsp) => () => this.gpInit(rsp));
    this.gpFqsEnd = this.states.map((rsp) => () => this.gpFqs(rsp));
    this.gpCleanupEnd = this.states.map((rsp) => () => this.gpCleanup(rsp));
    this.rcuSchedQsMask = new Int32Array(n);
    this.urgentQs = new Uint8Array(n);
    this.forcedTick = new Uint8Array(n);
    this.stats = { callbacksQueued: 0, callbacksInvoked: 0, reschedCpu: new Int32Array(n), tickDepSet: new Int32Array(n) };
    this.dynticksQs = this.defaultDynticksQs = (_rsp, rdp) => {
      const c = k.cpus[rdp.cpu]!;
      return rcuInEqs(c) || dynticksCounter(c) - rdp.dynticksSnap >= 2;
    };
    this.kickCpu = (rsp, rdp) => (k.params.tickDepRcu ? this.kickCpu61(rsp, rdp) : this.kickCpu49(rsp, rdp));
    this.nocb = new NocbOffload(k, this);
    this.checker = new RcuChecker(k, this);
    this.rcucTasks = new Array<Task | null>(n).fill(null);
    this.rcucHasWork = new Uint8Array(n);
    this.rcucCoreEnd = Array.from({ length: n }, (_, cpu) => () => this.rcucCore(cpu));

    // rcu_init(): open_softirq(RCU_SOFTIRQ, rcu_core_si) only if use_softirq.
    if (k.params.rcuUseSoftirq) k.irq.openSoftirq(SOFTIRQ_RCU, { name: "RCU", source: Src.rcu, costNs: k.params.rcuSoftirqNs, action: (cpu) => this.processCallbacks(cpu) });
    k.hooks.boot.push(() => this.spawnKthreads());
    k.hooks.tick.push((cpu) => this.checkCallbacks(cpu));
    k.hooks.contextSwitch.push((cpu) => this.noteContextSwitch(cpu));
    k.hooks.irqExit.push((cpu) => this.irqEnterCheckTick(cpu));
    k.rcuNextEvent = (cpu) => (this.cpuHasCallbacks(cpu) ? k.tick.nextPeriod() : Infinity);
    onSyscall(k, "call-rcu", (cpu) => {
      this.callRcu(cpu);
    });
  }

  /** jiffies now. */
  jiffies(): number {
    return Math.floor(this.k.engine.now / this.k.tickPeriod);
  }

  /** jiffies_till_first_fqs = jiffies_till_next_fqs = RCU_JIFFIES_TILL_FORCE_QS + nr_cpu_ids / RCU_JIFFIES_FQS_DIV (rcu_init_geometry()). */
  fqsJiffies(): number {
    const hz = this.k.params.hz;
    return 1 + (hz > 250 ? 1 : 0) + (hz > 500 ? 1 : 0) + Math.floor(this.k.nrCpus / 256);
  }

  /** jiffies_till_sched_qs in jiffies (at least 1). */
  jiffiesTillSchedQs(): number {
    return Math.max(1, Math.floor(this.k.params.rcuJiffiesTillSchedQsNs / this.k.tickPeriod));
  }

  /** rcu_gp_in_progress(). */
  gpInProgress(rsp: RcuState): boolean {
    return rsp.gpnum !== rsp.completed;
  }

  /** Whether `cpu`'s callbacks are offloaded (rcu_is_nocb_cpu()). */
  isNocbCpu(cpu: number): boolean {
    return this.k.hk.rcuNocbs.has(cpu);
  }

  /** call_rcu() on `cpu` (__call_rcu()): offloaded CPUs queue to their rcuo kthread, others to rdp->nxtlist. */
  callRcu(cpu: number): RcuCallback {
    const rsp = this.callRcuState;
    const nocb = this.isNocbCpu(cpu);
    // 6.12 __call_rcu_common(): call_rcu() is lazy under CONFIG_RCU_LAZY; only offloaded CPUs batch lazily (rcu_nocb_try_bypass()).
    const lazy = nocb && this.k.params.rcuLazy;
    const cb: RcuCallback = { id: this.nextCbId++, cpu, flavour: rsp.flavour.index, queuedAt: this.k.engine.now, gpnumAtQueue: rsp.gpnum, lazy, c: -1 };
    this.stats.callbacksQueued++;
    this.checker.queued(cb);
    if (nocb) this.nocb.enqueue(rsp, cb);
    else {
      const rdp = rsp.rda[cpu]!;
      if (rdp.cbs === NO_CBS) rdp.cbs = [cb];
      else rdp.cbs.push(cb);
    }
    return cb;
  }

  /** __rcu_reclaim(): runs one callback. */
  invokeCallback(cb: RcuCallback): void {
    this.stats.callbacksInvoked++;
    this.checker.invoked(cb);
    for (const h of this.k.hooks.rcuInvokeCallback) h(cb);
  }

  /**
   * Queues kthread work on `t`; the first segment after each wakeup counts as one run of `source` on
   * the kthread's CPU (a run = one wakeup).
   */
  kthreadWork(t: Task, name: string, ns: Nanoseconds, source: number, end: () => void): void {
    const pid = t.pid;
    let runs = this.countedRun;
    if (pid >= runs.length) {
      let len = runs.length;
      while (pid >= len) len *= 2;
      const grown = new Float64Array(len).fill(-1);
      grown.set(runs);
      this.countedRun = runs = grown;
    }
    const counted = runs[pid] === t.wakeups;
    runs[pid] = t.wakeups;
    t.segs.push(segmentOf(name, ns, Context.kernel, counted ? -1 : source, false, null, end, 0));
  }

  /**
   * rcu_spawn_gp_kthread() (early_initcall), with rcu_spawn_one_boost_kthread() per leaf rcu_node
   * under CONFIG_RCU_BOOST; rcu_spawn_core_kthreads() (rcuc/N, unless use_softirq); then
   * rcu_spawn_all_nocb_kthreads().
   */
  private spawnKthreads(): void {
    for (const rsp of this.states) {
      const t = this.k.sched.createTask({ name: rsp.flavour.name, cpu: this.gpCpu, user: false, role: "rcu_gp" });
      t.onIdle = () => this.gpKthreadStep(rsp, t);
      rsp.gpKthread = t;
    }
    if (this.k.params.rcuBoost && this.k.params.preemptRcu) this.spawnBoostKthreads();
    if (!this.k.params.rcuUseSoftirq) this.spawnCoreKthreads();
    this.nocb.spawn(this.nocbLayout(this.k, this.flavours, this.k.hk.rcuNocbs.toArray()));
    spawnExpAndTasksKthreads(this.k);
  }

  /**
   * rcu_spawn_one_boost_kthread() (kernel/rcu/tree_plugin.h, CONFIG_RCU_BOOST, preemptible RCU only)
   * for each leaf rcu_node: `rcub/<rnp - rcu_get_root()>`, SCHED_FIFO kthread_prio, affined by
   * rcutree_affinity_setting() to the leaf's CPUs that are housekeeping (HK_TYPE_RCU), else to every
   * housekeeping CPU. Leaves hold RCU_FANOUT_LEAF (16) CPUs, interior nodes RCU_FANOUT (64) children
   * (rcu_init_geometry()); one node is root and leaf at once. The model has no preempted readers to
   * boost (no rcu_read_lock() sections), so rcub kthreads exist (report `kthreads.rcu_gp`: they serve
   * grace periods) and sleep.
   */
  private spawnBoostKthreads(): void {
    const k = this.k;
    const leafFanout = 16;
    const fanout = 64;
    const leaves = Math.ceil(k.nrCpus / leafFanout);
    let above = 0;
    for (let level = leaves; level > 1; ) {
      level = Math.ceil(level / fanout);
      above += level;
    }
    for (let i = 0; i < leaves; i++) {
      let cpu = -1;
      for (let c = i * leafFanout; c < Math.min(k.nrCpus, (i + 1) * leafFanout); c++) {
        if (k.hk.housekeeping.has(c)) {
          cpu = c;
          break;
        }
      }
      const t = k.sched.createTask({ name: `rcub/${above + i}`, cpu: cpu < 0 ? this.gpCpu : cpu, user: false, role: "rcu_gp", policy: Policy.fifo, rtPriority: 1 });
      this.rcubTasks.push(t);
    }
  }

  /**
   * rcu_spawn_core_kthreads() (kernel/rcu/tree.c, !use_softirq): smpboot per-CPU `rcuc/N`, bound to
   * CPU N, isolated ones included; rcu_cpu_kthread_setup() makes it SCHED_FIFO kthread_prio (1)
   * under CONFIG_RCU_BOOST, else it stays SCHED_OTHER. Report role `rcu_callback`: it is "the per-CPU
   * kernel thread that invokes RCU callbacks" in place of RCU_SOFTIRQ (rcu_cpu_kthread()'s comment).
   */
  private spawnCoreKthreads(): void {
    const k = this.k;
    const fifo = k.params.rcuBoost;
    for (let cpu = 0; cpu < k.nrCpus; cpu++) {
      const t = k.sched.createTask({ name: `rcuc/${cpu}`, cpu, user: false, role: "rcu_callback", policy: fifo ? Policy.fifo : Policy.other, rtPriority: fifo ? 1 : 0 });
      t.onIdle = () => this.rcucStep(cpu, t);
      this.rcucTasks[cpu] = t;
    }
  }

  /**
   * invoke_rcu_core() (kernel/rcu/tree.c): raise RCU_SOFTIRQ, or without use_softirq
   * invoke_rcu_core_kthread(): set rdp->rcu_cpu_has_work and wake this CPU's rcuc kthread.
   */
  private invokeRcuCore(cpu: number): void {
    if (this.k.params.rcuUseSoftirq) {
      this.k.irq.raiseSoftirq(cpu, SOFTIRQ_RCU);
      return;
    }
    const t = this.rcucTasks[cpu];
    this.rcucHasWork[cpu] = 1;
    if (t) this.k.sched.wakeUp(t, cpu);
  }

  /**
   * One pass of rcu_cpu_kthread() (kernel/rcu/tree.c), run whenever rcuc has nothing queued: take
   * rcu_cpu_has_work and run rcu_core() (the work of RCU_SOFTIRQ, costed like it); no work left puts
   * it to sleep (RCU_KTHREAD_WAITING). Each wakeup counts one `rcu` interruption of its CPU, as a
   * softirq run would: the same RCU core work, in another context. The 10-pass spin limit and
   * RCU_KTHREAD_YIELDING are not modelled.
   */
  private rcucStep(cpu: number, t: Task): void {
    if (!this.rcucHasWork[cpu]) return;
    this.rcucHasWork[cpu] = 0;
    this.kthreadWork(t, "rcu_cpu_kthread:rcu_core", this.k.params.rcuSoftirqNs, Src.rcu, this.rcucCoreEnd[cpu]!);
  }

  /** rcu_core() in rcuc/N: as the softirq, but ready callbacks run in the kthread (rcu_do_batch()). */
  private rcucCore(cpu: number): void {
    const batch = this.rcuCore(cpu);
    if (!batch) return;
    const t = this.rcucTasks[cpu]!;
    t.segs.push(segmentOf("rcu_do_batch", batch.length * this.k.params.rcuCallbackNs, Context.kernel, -1, false, null, () => this.invokeBatch(batch), 0));
  }

  /** Invokes a batch rcu_do_batch() took off a CPU's list, in order. */
  private invokeBatch(cbs: RcuCallback[]): void {
    for (const cb of cbs) this.invokeCallback(cb);
  }

  /**
   * One pass of rcu_gp_kthread()'s loop, run whenever the kthread has nothing queued: wait for
   * RCU_GP_FLAG_INIT, rcu_gp_init(); then FQS scans every jiffies_till_next_fqs until qsmask is
   * empty; then rcu_gp_cleanup(). Returning without work puts it to sleep (swait_event_*).
   */
  private gpKthreadStep(rsp: RcuState, t: Task): void {
    const p = this.k.params;
    const f = rsp.flavour.index;
    if (rsp.gpnum === rsp.completed) {
      if (rsp.gpFlags & RCU_GP_FLAG_INIT) this.kthreadWork(t, "rcu_gp_init", p.rcuGpKthreadNs, Src.kthread, this.gpInitEnd[f]!);
      return;
    }
    if (rsp.qsLeft === 0) {
      this.kthreadWork(t, "rcu_gp_cleanup", p.rcuGpKthreadNs, Src.kthread, this.gpCleanupEnd[f]!);
      return;
    }
    if (this.jiffies() >= rsp.jiffiesForceQs) {
      this.kthreadWork(t, "rcu_gp_fqs", p.rcuFqsPerCpuNs * rsp.qsLeft, Src.kthread, this.gpFqsEnd[f]!);
      return;
    }
    if (!this.k.timers.pending(rsp.fqsTimer)) this.k.timers.addOn(rsp.fqsTimer, this.gpCpu, rsp.jiffiesForceQs * this.k.tickPeriod);
  }

  /** rcu_gp_init(): a new grace period; every online CPU owes it a quiescent state. */
  private gpInit(rsp: RcuState): void {
    const k = this.k;
    const j = this.jiffies();
    rsp.gpFlags = 0;
    rsp.gpnum++;
    rsp.gpStart = j;
    rsp.gpStartNs = k.engine.now;
    rsp.jiffiesResched = j + Math.floor(Math.floor(k.params.rcuCpuStallTimeoutNs / k.tickPeriod) / 2);
    rsp.fqsPasses = 0;
    rsp.qsmask.fill(1);
    rsp.qsLeft = k.nrCpus;
    rsp.jiffiesForceQs = j + Math.min(this.fqsJiffies(), k.params.hz);
    k.trace?.instant(this.gpCpu, `rcu_grace_period: ${rsp.flavour.name} ${rsp.gpnum} start`, k.engine.now);
    this.checker.gpStarted(rsp);
    this.noteGpChanges(rsp, this.gpCpu);
  }

  /**
   * rcu_gp_fqs() → force_qs_rnp(): the first scan snapshots each holdout's dynticks counter
   * (dyntick_save_progress_counter()), later ones compare (rcu_implicit_dynticks_qs()) and kick
   * CPUs that are still not quiescent. Nothing is sent to a CPU found quiescent.
   */
  private gpFqs(rsp: RcuState): void {
    const k = this.k;
    k.timers.del(rsp.fqsTimer);
    const first = rsp.fqsPasses === 0;
    rsp.fqsPasses++;
    rsp.fqsScans++;
    const qsmask = rsp.qsmask, rda = rsp.rda, cpus = k.cpus;
    const nums = this.tables[rsp.flavour.index]!.nums;
    const nohzFull = this.nohzFull;
    const dynticksQs = this.dynticksQs;
    const inline = dynticksQs === this.defaultDynticksQs;
    for (let cpu = 0; cpu < k.nrCpus; cpu++) {
      if (!qsmask[cpu]) continue;
      const w = cpus[cpu]!.ctWord;
      const ctr = Math.floor(w / CT_RCU_WATCHING);
      // rdp->dynticks_snap is nums[5 * cpu + 2].
      if (first) nums[5 * cpu + 2] = ctr;
      let qs: boolean;
      if (inline) {
        const st = w & CT_STATE_MASK;
        qs = st === CtState.idle || (st === CtState.user && nohzFull[cpu] === 1) || ctr - nums[5 * cpu + 2]! >= 2;
      } else qs = dynticksQs(rsp, rda[cpu]!);
      if (qs) this.reportQs(rsp, cpu);
      else if (!first) this.kickCpu(rsp, rda[cpu]!);
    }
    rsp.jiffiesForceQs = this.jiffies() + this.fqsJiffies();
  }

  /** rcu_gp_cleanup(): the grace period ends; offloaded waiters are woken; another starts if needed. */
  private gpCleanup(rsp: RcuState): void {
    const k = this.k;
    k.timers.del(rsp.fqsTimer);
    rsp.completed = rsp.gpnum;
    rsp.gpsCompleted++;
    k.trace?.instant(this.gpCpu, `rcu_grace_period: ${rsp.flavour.name} ${rsp.completed} end`, k.engine.now);
    this.checker.gpEnded(rsp);
    for (const h of k.hooks.rcuGpEnd) h(rsp.flavour.index, rsp.gpStartNs);
    this.noteGpChanges(rsp, this.gpCpu);
    this.nocb.gpCompleted(rsp);
    if (rsp.needFutureGp > rsp.completed || this.cpuNeedsAnotherGp(rsp, rsp.rda[this.gpCpu]!)) rsp.gpFlags |= RCU_GP_FLAG_INIT;
  }

  /** rcu_report_qs_rnp(): `cpu` has passed a quiescent state for the current grace period. */
  reportQs(rsp: RcuState, cpu: number): void {
    if (!rsp.qsmask[cpu]) return;
    rsp.qsmask[cpu] = 0;
    rsp.qsLeft--;
    if (this.k.params.tickDepRcu) this.disableUrgencyUponQs(cpu);
    if (rsp.qsLeft === 0 && rsp.gpKthread) this.k.sched.wakeUp(rsp.gpKthread, this.k.executingCpu);
  }

  /** rcu_start_gp_advanced(): ask the GP kthread for a grace period (RCU_GP_FLAG_INIT + rcu_gp_kthread_wake()). */
  startGp(rsp: RcuState): void {
    if (this.gpInProgress(rsp) || rsp.gpFlags & RCU_GP_FLAG_INIT) return;
    rsp.gpFlags |= RCU_GP_FLAG_INIT;
    if (rsp.gpKthread) this.k.sched.wakeUp(rsp.gpKthread, this.k.executingCpu);
  }

  /** rcu_start_future_gp(): records that a grace period must end at ->completed = c, starting one if idle; returns c. */
  startFutureGp(rsp: RcuState): number {
    const c = this.cbsCompleted(rsp);
    if (c > rsp.needFutureGp) rsp.needFutureGp = c;
    if (c > rsp.completed && !this.gpInProgress(rsp)) this.startGp(rsp);
    return c;
  }

  /** cpu_needs_another_gp(): idle RCU and callbacks of this (non-offloaded) CPU or a recorded future GP wait. */
  private cpuNeedsAnotherGp(rsp: RcuState, rdp: RcuData): boolean {
    if (this.gpInProgress(rsp)) return false;
    if (rsp.needFutureGp > rsp.completed) return true;
    for (const cb of rdp.cbs) if (cb.c < 0 || cb.c > rsp.completed) return true;
    return false;
  }

  /** rcu_cpu_has_callbacks() for rcu_needs_cpu(): an offloaded CPU never has any of its own. */
  private cpuHasCallbacks(cpu: number): boolean {
    const tables = this.tables;
    for (let f = 0; f < tables.length; f++) if (tables[f]!.cbs[cpu]!.length > 0) return true;
    return false;
  }

  /** __note_gp_changes(): the CPU notices grace periods that ended or started. */
  private noteGpChanges(rsp: RcuState, cpu: number): void {
    // rdp->gpnum, ->completed, ->last_fqs_resched are nums[5 * cpu], [+1], [+4]; ->cpu_no_qs, ->core_needs_qs flags[2 * cpu], [+1].
    const t = this.tables[rsp.flavour.index]!;
    const nums = t.nums;
    if (nums[5 * cpu + 1] !== rsp.completed) nums[5 * cpu + 1] = rsp.completed;
    if (nums[5 * cpu] !== rsp.gpnum) {
      nums[5 * cpu] = rsp.gpnum;
      t.flags[2 * cpu] = 1;
      t.flags[2 * cpu + 1] = rsp.gpnum !== rsp.completed && rsp.qsmask[cpu] === 1 ? 1 : 0;
      nums[5 * cpu + 4] = this.jiffies();
    }
  }


  /**
   * rcu_check_callbacks() from update_process_times(): an interrupted user or idle CPU is quiescent
   * for every flavour; any tick outside softirq is for rcu_bh; outside a read-side critical section
   * (none are modelled) for rcu_preempt. rcu_pending() then raises RCU_SOFTIRQ.
   */
  private checkCallbacks(cpu: number): void {
    const ctx = this.k.cpus[cpu]!.interruptedCtx;
    const userOrIdle = ctx === Context.user || ctx === Context.idle;
    const tables = this.tables;
    // rdp->cpu_no_qs is flags[2 * cpu].
    for (let f = 0; f < tables.length; f++) if (userOrIdle || f !== this.schedIndex) tables[f]!.flags[2 * cpu] = 0;
    if (this.rcuPending(cpu, userOrIdle)) this.invokeRcuCore(cpu);
  }

  /**
   * rcu_pending() / __rcu_pending() (reduced); reads the rcu_data slots (flags: cpu_no_qs, core_needs_qs;
   * nums: gpnum, completed). A nohz_full CPU ignores RCU while no grace period is in progress or the
   * current one is younger than HZ jiffies (4.9 kernel/rcu/tree.c __rcu_pending() → tree_plugin.h
   * rcu_nohz_full_cpu()), so its residual tick raises no RCU_SOFTIRQ to notice grace periods.
   * With params.rcuPendingNohzFullUserOnly (6.1 kernel/rcu/tree.c rcu_pending(): "Is this a
   * nohz_full CPU in userspace or idle?") it ignores RCU only when the tick interrupted user or idle,
   * so a tick in the kernel (one forced by TICK_DEP_BIT_RCU) reports the quiescent state.
   */
  private rcuPending(cpu: number, userOrIdle: boolean): boolean {
    const states = this.states, tables = this.tables;
    const nohzFull = this.nohzFull[cpu] === 1 && (userOrIdle || !this.k.params.rcuPendingNohzFullUserOnly);
    for (let f = 0; f < states.length; f++) {
      const rsp = states[f]!;
      const t = tables[f]!;
      if (nohzFull && (rsp.gpnum === rsp.completed || this.jiffies() < rsp.gpStart + this.k.params.hz)) continue;
      if (t.flags[2 * cpu + 1] === 1 && t.flags[2 * cpu] === 0) return true;
      if (t.nums[5 * cpu] !== rsp.gpnum || t.nums[5 * cpu + 1] !== rsp.completed) return true;
      const cbs = t.cbs[cpu]!;
      // An offloaded CPU's own list is always empty: ask rcu_is_nocb_cpu() only when it is not.
      if (cbs.length === 0 || this.isNocbCpu(cpu)) continue;
      const rdp = rsp.rda[cpu]!;
      if (this.cpuNeedsAnotherGp(rsp, rdp)) return true;
      for (const cb of cbs) if (cb.c >= 0 && cb.c <= rdp.completed) return true;
    }
    return false;
  }

  /**
   * rcu_process_callbacks() (RCU_SOFTIRQ): note grace-period changes, report a local quiescent
   * state (rcu_check_quiescent_state()), accelerate callbacks and ask for a grace period, then invoke
   * ready callbacks (rcu_do_batch()). Each softirq run counts one `rcu` interruption of its CPU (the
   * contract's "RCU softirq"); the callbacks it invokes are part of that run, not another count.
   */
  private processCallbacks(cpu: number): void {
    const batch = this.rcuCore(cpu);
    if (!batch) return;
    const cbs = batch;
    const end = (): void => {
      for (const cb of cbs) this.invokeCallback(cb);
    };
    this.k.cpus[cpu]!.irqQueue.push(segmentOf("rcu_do_batch", cbs.length * this.k.params.rcuCallbackNs, Context.softirq, -1, false, null, end, 0));
  }

  /** rcu_core() (reduced): the work of {@link processCallbacks}; returns the callbacks ready to invoke, or null. */
  private rcuCore(cpu: number): RcuCallback[] | null {
    const states = this.states, tables = this.tables;
    let batch: RcuCallback[] | null = null;
    for (let f = 0; f < states.length; f++) {
      const rsp = states[f]!;
      const t = tables[f]!;
      this.noteGpChanges(rsp, cpu);
      // rdp->core_needs_qs && !rdp->cpu_no_qs && rdp->gpnum == rsp->gpnum, in a grace period.
      if (t.flags[2 * cpu + 1] === 1 && t.flags[2 * cpu] === 0 && t.nums[5 * cpu] === rsp.gpnum && rsp.gpnum !== rsp.completed) {
        t.flags[2 * cpu + 1] = 0;
        this.reportQs(rsp, cpu);
      }
      // An offloaded CPU's own list is always empty: ask rcu_is_nocb_cpu() only when it is not.
      if (t.cbs[cpu]!.length === 0 || this.isNocbCpu(cpu)) continue;
      const rdp = rsp.rda[cpu]!;
      for (const cb of rdp.cbs) if (cb.c < 0) cb.c = this.cbsCompleted(rsp);
      if (this.cpuNeedsAnotherGp(rsp, rdp)) this.startGp(rsp);
      let keep = 0;
      for (const cb of rdp.cbs) {
        if (cb.c <= rdp.completed) (batch ??= []).push(cb);
        else rdp.cbs[keep++] = cb;
      }
      rdp.cbs.length = keep;
    }
    return batch;
  }

  /**
   * rcu_note_context_switch(): a quiescent state for rcu_sched and rcu_preempt; 4.9 also answers an
   * FQS request in rcu_sched_qs_mask with rcu_momentary_dyntick_idle() (the counter moves by 2, which
   * the next scan sees); 6.1 clears rcu_urgent_qs.
   */
  private noteContextSwitch(cpu: number): void {
    const tables = this.tables;
    // rdp->cpu_no_qs is flags[2 * cpu].
    for (let f = 0; f < tables.length; f++) if (f !== this.bhIndex) tables[f]!.flags[2 * cpu] = 0;
    if (this.k.params.tickDepRcu) {
      this.urgentQs[cpu] = 0;
      return;
    }
    const mask = this.rcuSchedQsMask[cpu]!;
    if (!mask) return;
    this.rcuSchedQsMask[cpu] = 0;
    for (const rsp of this.states) {
      if (!(mask & rsp.flavour.mask)) continue;
      if (rsp.completed !== rsp.rda[cpu]!.condReschedCompleted) continue;
      this.momentaryDyntickIdle(cpu);
      break;
    }
  }

  /** rcu_dynticks_momentary_idle(): atomically add 2 to the CPU's dynticks counter. */
  private momentaryDyntickIdle(cpu: number): void {
    const c = this.k.cpus[cpu]!;
    for (;;) {
      const old = c.ctWord;
      if (c.ctCmpxchg(old, old + 2 * CT_RCU_WATCHING)) return;
    }
  }

  /** resched_cpu() from the FQS scan. */
  private reschedCpu(cpu: number): void {
    this.stats.reschedCpu[cpu]!++;
    this.k.sched.reschedCurr(cpu, this.k.executingCpu);
  }

  /**
   * 4.9 rcu_implicit_dynticks_qs() tail (kernel/rcu/tree.c:1176-1224): nothing while the grace period
   * is at most 2 jiffies old; from gp_start + jiffies_till_sched_qs (or jiffies_resched) set the CPU's
   * rcu_sched_qs_mask bit (with ->cond_resched_completed) if it is clear, and push jiffies_resched 5
   * jiffies on, at every pass; and from gp_start + jiffies_till_sched_qs resched_cpu() the CPU at
   * every force-quiescent-state pass (the `gp_start + 2 * jtsq || gp_start + jtsq` test of line 1221
   * reduces to the second).
   */
  private kickCpu49(rsp: RcuState, rdp: RcuData): void {
    const j = this.jiffies();
    if (rsp.gpStart + 2 >= j) return;
    const cpu = rdp.cpu;
    const forceAt = rsp.gpStart + this.jiffiesTillSchedQs();
    if (j >= forceAt || j >= rsp.jiffiesResched) {
      if (!(this.rcuSchedQsMask[cpu]! & rsp.flavour.mask)) {
        rdp.condReschedCompleted = rsp.completed;
        this.rcuSchedQsMask[cpu] = this.rcuSchedQsMask[cpu]! | rsp.flavour.mask;
      }
      rsp.jiffiesResched += 5;
    }
    if (j >= forceAt) this.reschedCpu(cpu);
  }

  /** 6.1 rcu_implicit_dynticks_qs() tail: rcu_urgent_qs past jiffies_to_sched_qs, resched_cpu() of a nohz_full CPU every 3 × that. */
  private kickCpu61(rsp: RcuState, rdp: RcuData): void {
    const j = this.jiffies();
    const jtsq = this.jiffiesTillSchedQs();
    if (j <= rsp.gpStart + jtsq) return;
    const cpu = rdp.cpu;
    this.urgentQs[cpu] = 1;
    if (this.k.cpus[cpu]!.nohzFull && j > rdp.lastFqsResched + 3 * jtsq) {
      this.reschedCpu(cpu);
      rdp.lastFqsResched = j;
    }
  }

  /** 6.1 rcu_irq_enter_check_tick(): an urgent nohz_full CPU sets TICK_DEP_BIT_RCU on itself at its next interrupt. */
  private irqEnterCheckTick(cpu: number): void {
    if (!this.k.params.tickDepRcu || !this.urgentQs[cpu] || this.forcedTick[cpu]) return;
    if (!this.k.cpus[cpu]!.nohzFull) return;
    this.forcedTick[cpu] = 1;
    this.stats.tickDepSet[cpu]!++;
    this.k.tick.depSetCpu(cpu, TickDep.RCU);
  }

  /** 6.1 rcu_disable_urgency_upon_qs(): once no flavour waits on the CPU, drop urgency and the forced tick. */
  private disableUrgencyUponQs(cpu: number): void {
    for (const rsp of this.states) if (rsp.qsmask[cpu]) return;
    this.urgentQs[cpu] = 0;
    if (this.forcedTick[cpu]) {
      this.forcedTick[cpu] = 0;
      this.k.tick.depClearCpu(cpu, TickDep.RCU);
    }
  }
}
