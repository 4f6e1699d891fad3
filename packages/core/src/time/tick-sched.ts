import type { Nanoseconds } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { Context } from "../machine/cpu.js";
import type { Segment } from "../machine/cpu.js";
import { Kept, Src, tickKeptByKeys } from "../accounting/sources.js";
import type { Task } from "../sched/task.js";

/** TICK_DEP_BIT_* (include/linux/tick.h); RCU exists from v5.10, RCU_EXP is checked from v6.4. */
export const TickDep = {
  /** TICK_DEP_BIT_POSIX_TIMER: a running POSIX CPU timer. */
  POSIX_TIMER: 0,
  /** TICK_DEP_BIT_PERF_EVENTS: perf events that need the tick. */
  PERF_EVENTS: 1,
  /** TICK_DEP_BIT_SCHED: the scheduler needs the tick (sched_can_stop_tick() fails). */
  SCHED: 2,
  /** TICK_DEP_BIT_CLOCK_UNSTABLE: unstable sched_clock. */
  CLOCK_UNSTABLE: 3,
  /** TICK_DEP_BIT_RCU (v5.10+): RCU needs the CPU to report a quiescent state. */
  RCU: 4,
  /** TICK_DEP_BIT_RCU_EXP (checked from v6.4): an expedited grace period waits on the CPU. */
  RCU_EXP: 5,
} as const;

/** Per-CPU tick state (struct tick_sched, kernel/time/tick-sched.h). */
export interface TickSched {
  /** ts->tick_stopped. */
  stopped: boolean;
  /** Expiry of the tick hrtimer (tick_sched_timer), Infinity when stopped indefinitely. */
  nextTick: Nanoseconds;
  /** Reason (Kept index) the upcoming tick fires, -1 for a plain periodic tick. */
  keptBy: number;
  /** ts->tick_dep_mask (CPU level). */
  depMask: number;
  /** rq->last_sched_tick (4.9 scheduler_tick_max_deferment()). */
  lastSchedTick: Nanoseconds;
  /** Whether the CPU is in the idle loop with the tick under idle control (ts->inidle). */
  inIdle: boolean;
  /** When the tick last stopped (for stopped_pct), or -1. */
  stoppedSince: Nanoseconds;
  /** Measured time with the tick stopped, ns. */
  stoppedNs: Nanoseconds;
  /** Stops counted in the measured window. */
  stops: number;
  /** Restarts counted in the measured window. */
  restarts: number;
  /** Ticks counted per kept-by reason in the measured window. */
  readonly keptCounts: Int32Array;
  /** Whether the last stop asked for KTIME_MAX (indefinite). */
  indefinite: boolean;
  /** Whether the last indefinite stop left an armed deadline that may still fire. */
  staleDeadline: boolean;
}

/** Every CPU's tick_sched fields in typed arrays indexed by CPU, so a CPU's {@link TickSched} holds no boxed numbers. */
class TickTable {
  /** nextTick, lastSchedTick, stoppedSince, stoppedNs of CPU c at 4c..4c+3. */
  readonly times: Float64Array;
  /** keptBy, depMask, stops, restarts of CPU c at 4c..4c+3. */
  readonly ints: Int32Array;
  /** stopped, inIdle, indefinite, staleDeadline of CPU c at 4c..4c+3. */
  readonly flags: Uint8Array;
  /** keptCounts of CPU c at c × tickKeptByKeys.length. */
  readonly kept: Int32Array;
  /** The last view of one CPU's kept counts made (a report reads one CPU's counts key by key), or null. */
  keptView: Int32Array | null = null;
  /** The CPU of {@link keptView}, or -1. */
  keptViewCpu = -1;

  constructor(n: number) {
    this.times = new Float64Array(4 * n);
    this.ints = new Int32Array(4 * n);
    this.flags = new Uint8Array(4 * n);
    this.kept = new Int32Array(n * tickKeptByKeys.length);
    for (let cpu = 0; cpu < n; cpu++) {
      this.times[4 * cpu] = Infinity;
      this.times[4 * cpu + 2] = -1;
      this.ints[4 * cpu] = -1;
    }
  }
}

/** One CPU's {@link TickSched}: accessors over its {@link TickTable} slots. */
class TickSchedCpu implements TickSched {
  constructor(
    private readonly t: TickTable,
    private readonly cpu: number,
  ) {}

  get nextTick(): Nanoseconds {
    return this.t.times[4 * this.cpu]!;
  }

  set nextTick(v: Nanoseconds) {
    this.t.times[4 * this.cpu] = v;
  }

  get lastSchedTick(): Nanoseconds {
    return this.t.times[4 * this.cpu + 1]!;
  }

  set lastSchedTick(v: Nanoseconds) {
    this.t.times[4 * this.cpu + 1] = v;
  }

  get stoppedSince(): Nanoseconds {
    return this.t.times[4 * this.cpu + 2]!;
  }

  set stoppedSince(v: Nanoseconds) {
    this.t.times[4 * this.cpu + 2] = v;
  }

  get stoppedNs(): Nanoseconds {
    return this.t.times[4 * this.cpu + 3]!;
  }

  set stoppedNs(v: Nanoseconds) {
    this.t.times[4 * this.cpu + 3] = v;
  }

  get keptBy(): number {
    return this.t.ints[4 * this.cpu]!;
  }

  set keptBy(v: number) {
    this.t.ints[4 * this.cpu] = v;
  }

  get depMask(): number {
    return this.t.ints[4 * this.cpu + 1]!;
  }

  set depMask(v: number) {
    this.t.ints[4 * this.cpu + 1] = v;
  }

  get stops(): number {
    return this.t.ints[4 * this.cpu + 2]!;
  }

  set stops(v: number) {
    this.t.ints[4 * this.cpu + 2] = v;
  }

  get restarts(): number {
    return this.t.ints[4 * this.cpu + 3]!;
  }

  set restarts(v: number) {
    this.t.ints[4 * this.cpu + 3] = v;
  }

  get stopped(): boolean {
    return this.t.flags[4 * this.cpu] === 1;
  }

  set stopped(v: boolean) {
    this.t.flags[4 * this.cpu] = v ? 1 : 0;
  }

  get inIdle(): boolean {
    return this.t.flags[4 * this.cpu + 1] === 1;
  }

  set inIdle(v: boolean) {
    this.t.flags[4 * this.cpu + 1] = v ? 1 : 0;
  }

  get indefinite(): boolean {
    return this.t.flags[4 * this.cpu + 2] === 1;
  }

  set indefinite(v: boolean) {
    this.t.flags[4 * this.cpu + 2] = v ? 1 : 0;
  }

  get staleDeadline(): boolean {
    return this.t.flags[4 * this.cpu + 3] === 1;
  }

  set staleDeadline(v: boolean) {
    this.t.flags[4 * this.cpu + 3] = v ? 1 : 0;
  }

  /** A view of the CPU's slice of the kept-by counts (the table's last one while it is this CPU's). */
  get keptCounts(): Int32Array {
    const t = this.t;
    if (t.keptViewCpu !== this.cpu) {
      const n = tickKeptByKeys.length;
      t.keptView = t.kept.subarray(this.cpu * n, (this.cpu + 1) * n);
      t.keptViewCpu = this.cpu;
    }
    return t.keptView!;
  }
}

/** The tick, periodic and nohz_full (kernel/time/tick-sched.c). */
export class TickSchedState {
  /** Per-CPU tick state. */
  readonly ts: TickSched[];
  /** tick_dep_mask (global level). */
  globalDep = 0;
  /** Task-level tick dependencies (tsk->tick_dep_mask). */
  readonly taskDep = new Map<Task, number>();
  /** The timekeeping CPU (tick_do_timer_cpu). */
  readonly timekeeper: number;
  /** Every CPU's tick_sched fields, in typed arrays indexed by CPU. */
  private readonly table: TickTable;
  /** Every CPU's kept-by tick counts (CPU c's at c × tickKeptByKeys.length). */
  private readonly keptAll: Int32Array;
  /** {@link TickTable.times}: nextTick, lastSchedTick, stoppedSince, stoppedNs of CPU c at 4c..4c+3, read directly on hot paths. */
  private readonly times: Float64Array;
  /** {@link TickTable.ints}: keptBy, depMask, stops, restarts of CPU c at 4c..4c+3. */
  private readonly ints: Int32Array;
  /** {@link TickTable.flags}: stopped, inIdle, indefinite, staleDeadline of CPU c at 4c..4c+3. */
  private readonly flags: Uint8Array;

  constructor(private readonly k: Kernel) {
    this.timekeeper = k.bootCpu;
    this.table = new TickTable(k.nrCpus);
    this.ts = Array.from({ length: k.nrCpus }, (_, cpu) => new TickSchedCpu(this.table, cpu));
    this.keptAll = this.table.kept;
    this.times = this.table.times;
    this.ints = this.table.ints;
    this.flags = this.table.flags;
  }

  /** Starts the periodic tick on every CPU at boot (tick_setup_sched_timer()). */
  boot(): void {
    for (let cpu = 0; cpu < this.k.nrCpus; cpu++) {
      this.programTick(cpu, this.k.tickPeriod, cpu === this.timekeeper ? Kept.TIMEKEEPING : -1);
    }
  }

  /** tick_program_event() of the tick hrtimer at `at`, kept for `keptBy` (-1: periodic). */
  private programTick(cpu: number, at: Nanoseconds, keptBy: number): void {
    const i = 4 * cpu;
    this.times[i] = at;
    this.ints[i] = keptBy;
    const flags = this.flags;
    flags[i + 2] = 0;
    flags[i + 3] = 0;
    this.k.clockevents.programEvent(cpu, at);
  }

  /** The next tick boundary strictly after now (hrtimer_forward(now, tick_period)). */
  nextPeriod(): Nanoseconds {
    const p = this.k.tickPeriod;
    return (Math.floor(this.k.engine.now / p) + 1) * p;
  }

  /** hrtimer_interrupt() on `cpu`: the tick if its hrtimer expired, a spurious interrupt otherwise. */
  timerInterrupt(cpu: number): void {
    const k = this.k;
    const now = k.engine.now;
    const i = 4 * cpu;
    if (this.times[i]! <= now) {
      const reason = this.ints[i]!;
      this.times[i] = Infinity;
      k.irq.raise(cpu, k.exec.segments.take("local_timer", k.params.tickHandlerNs, Context.irq, Src.tick, false, this.tickStart, null, reason));
    } else {
      const flags = this.flags;
      const indefinite = flags[i + 2] === 1;
      if (indefinite && flags[i + 3] === 1) flags[i + 3] = 0;
      k.invariants.spuriousTimer(cpu, indefinite);
      // Nothing keeps the handler segment after it ran: it comes from the pool, like the tick's.
      k.irq.raise(cpu, k.exec.segments.take("spurious_timer", k.params.spuriousTimerNs, Context.irq, Src.spurious_timer, false, null, null, 0));
    }
  }

  /** Start of a local_timer segment, on its CPU; `seg.arg` is the reason the tick was kept (or -1). */
  private readonly tickStart = (seg: Segment): void => this.tickSchedTimer(this.k.executingCpu, seg.arg);

  /** tick_sched_timer() → tick_sched_handle() → update_process_times(). */
  private tickSchedTimer(cpu: number, reason: number): void {
    const k = this.k;
    const now = k.engine.now;
    if (reason >= 0 && k.measuring()) this.keptAll[cpu * tickKeptByKeys.length + reason]!++;
    this.times[4 * cpu + 1] = now;
    k.sched.schedulerTick(cpu);
    const hooks = k.hooks.tick;
    for (let i = 0; i < hooks.length; i++) hooks[i]!(cpu);
    if (k.timers.hasExpired(cpu, now)) k.irq.raiseSoftirq(cpu, SOFTIRQ_TIMER);
    k.invariants.tickRan(cpu);
    if (this.flags[4 * cpu] === 0) {
      this.programTick(cpu, this.nextPeriod(), cpu === this.timekeeper ? Kept.TIMEKEEPING : this.ints[4 * cpu]!);
    }
  }

  /** First set dependency bit (Kept index) at the 4 levels, or -1 (check_tick_dependency()). */
  private firstDep(cpu: number): number {
    let mask = this.globalDep | this.ints[4 * cpu + 1]!;
    const curr = this.k.cpus[cpu]!.curr;
    if (curr !== null && this.taskDep.size > 0) mask |= this.taskDep.get(curr) ?? 0;
    if (mask === 0) return -1;
    for (let b = 0; b < 6; b++) if (mask & (1 << b)) return b;
    return -1;
  }

  /** Why the tick of a nohz_full CPU cannot stop now (can_stop_full_tick()), or -1. */
  cantStopReason(cpu: number): number {
    const dep = this.firstDep(cpu);
    if (dep >= 0) return dep;
    if (!this.k.sched.canStopTick(cpu)) return Kept.SCHED;
    return -1;
  }

  /** Called by the interrupt layer on every interrupt exit (tick_nohz_irq_exit()). */
  irqExit(cpu: number): void {
    const c = this.k.cpus[cpu]!;
    if (this.flags[4 * cpu + 1] === 1) {
      if (c.curr === null && !c.needResched) this.stopIdle(cpu);
      return;
    }
    if (c.nohzFull) {
      this.fullUpdateTick(cpu);
      this.k.invariants.checkTickDeps(cpu);
    }
  }

  /** tick_nohz_full_update_tick(): stop or restart the tick of a busy nohz_full CPU. */
  fullUpdateTick(cpu: number): void {
    const k = this.k;
    const reason = this.cantStopReason(cpu);
    if (reason >= 0) {
      k.trace?.instant(cpu, `tick_stop: success=0 dependency=${tickKeptByKeys[reason]}`, k.engine.now);
      if (this.flags[4 * cpu] === 1) this.restart(cpu, reason);
      else this.ints[4 * cpu] = reason;
      return;
    }
    this.stopSchedTick(cpu, k.maxDeferment(cpu));
  }

  /**
   * tick_nohz_stop_sched_tick(): program the tick at the next event (first non-deferrable timer,
   * capped by `cap`), keep it when that is within a tick, or stop indefinitely (KTIME_MAX).
   */
  private stopSchedTick(cpu: number, cap: Nanoseconds): void {
    const k = this.k;
    const i = 4 * cpu;
    const flags = this.flags;
    const now = k.engine.now;
    const timer = Math.min(k.timers.nextNonDeferrable(cpu), k.rcuNextEvent(cpu));
    const next = Math.min(timer, cap);
    const boundary = this.nextPeriod();
    if (next <= boundary) {
      const why = timer <= cap ? Kept.TIMER : Kept.MAX_DEFERMENT;
      // 4.9: a stopped tick with an event within the next period stays stopped and is programmed
      // at that event; only an event already due restarts it.
      if (flags[i] === 1) {
        if (next <= now) this.restart(cpu, why);
        else this.programTick(cpu, next, why);
      } else if (this.times[i] === Infinity) this.programTick(cpu, boundary, why);
      else this.ints[i] = why;
      return;
    }
    if (flags[i] === 0) {
      flags[i] = 1;
      this.times[i + 2] = now;
      if (k.measuring()) this.ints[i + 2]!++;
      k.trace?.instant(cpu, "tick_stop: success=1 dependency=NONE", now);
      const hooks = k.hooks.tickStopped;
      for (let h = 0; h < hooks.length; h++) hooks[h]!(cpu);
    }
    if (next === Infinity) {
      const ce = k.clockevents;
      const hadDeadline = ce.armed(cpu);
      this.times[i] = Infinity;
      this.ints[i] = -1;
      flags[i + 2] = 1;
      flags[i + 3] = hadDeadline && !ce.supportsOneshotStopped(cpu) ? 1 : 0;
      k.invariants.indefiniteStop(cpu);
      k.clockevents.programStopped(cpu);
    } else {
      this.programTick(cpu, next, timer <= cap ? Kept.TIMER : Kept.MAX_DEFERMENT);
    }
  }

  /** tick_nohz_restart_sched_tick(): the tick runs again from the next period. */
  private restart(cpu: number, reason: number): void {
    const now = this.k.engine.now;
    this.flags[4 * cpu] = 0;
    this.accumulateStopped(cpu, now);
    if (this.k.measuring()) this.ints[4 * cpu + 3]!++;
    this.programTick(cpu, this.nextPeriod(), reason);
  }

  /** Adds the time `cpu`'s tick has been stopped, up to `now`, to its stoppedNs (from the end of the warm-up). */
  private accumulateStopped(cpu: number, now: Nanoseconds): void {
    const times = this.times;
    const since = times[4 * cpu + 2]!;
    if (since >= 0) {
      const from = Math.max(since, this.k.warmup);
      if (now > from) times[4 * cpu + 3] = times[4 * cpu + 3]! + (now - from);
      times[4 * cpu + 2] = -1;
    }
  }

  /** tick_nohz_idle_enter(): the CPU goes idle; every CPU but the timekeeper may stop its tick. */
  idleEnter(cpu: number): void {
    this.flags[4 * cpu + 1] = 1;
    this.stopIdle(cpu);
  }

  private stopIdle(cpu: number): void {
    if (cpu === this.timekeeper) return;
    this.stopSchedTick(cpu, Infinity);
  }

  /** tick_nohz_idle_exit(): leaving idle to run a task restarts a stopped tick. */
  idleExit(cpu: number): void {
    const flags = this.flags;
    const i = 4 * cpu;
    if (flags[i + 1] === 0) return;
    flags[i + 1] = 0;
    if (flags[i] === 1) {
      flags[i] = 0;
      this.accumulateStopped(cpu, this.k.engine.now);
      if (this.k.measuring()) this.ints[i + 3]!++;
      this.programTick(cpu, this.nextPeriod(), -1);
    }
  }

  /** A non-deferrable timer was queued on `cpu`: a stopped tick may need to fire earlier (wake_up_nohz_cpu()). */
  timerAdded(cpu: number, expires: Nanoseconds): void {
    const ts = this.ts[cpu]!;
    if (!ts.stopped || expires >= ts.nextTick) return;
    const c = this.k.cpus[cpu]!;
    if (c.nohzFull && !ts.inIdle) this.kick(cpu);
    else if (ts.inIdle) this.k.sched.reschedIpiIdle(cpu);
  }

  /** Sets a CPU-level dependency bit; a 0→1 change kicks the CPU (tick_nohz_dep_set_cpu()). */
  depSetCpu(cpu: number, bit: number): void {
    const prev = this.ints[4 * cpu + 1]!;
    this.ints[4 * cpu + 1] = prev | (1 << bit);
    if (prev === 0 && this.k.cpus[cpu]!.nohzFull) this.kick(cpu);
    this.k.invariants.tickDepMayBeOwed(cpu);
  }

  /** Clears a CPU-level dependency bit (tick_nohz_dep_clear_cpu()); the tick stops at a later exit. */
  depClearCpu(cpu: number, bit: number): void {
    this.ints[4 * cpu + 1] = this.ints[4 * cpu + 1]! & ~(1 << bit);
  }

  /** Sets a task-level dependency bit (tick_nohz_dep_set_task()); 4.9 kicks every nohz_full CPU. */
  depSetTask(task: Task, bit: number): void {
    const prev = this.taskDep.get(task) ?? 0;
    this.taskDep.set(task, prev | (1 << bit));
    if (prev !== 0) return;
    if (this.k.params.tickDepKickAll) {
      for (const c of this.k.cpus) if (c.nohzFull) this.kick(c.id);
    } else this.kick(task.cpu);
    this.k.invariants.tickDepMayBeOwed(task.cpu);
  }

  /** Clears a task-level dependency bit. */
  depClearTask(task: Task, bit: number): void {
    const m = (this.taskDep.get(task) ?? 0) & ~(1 << bit);
    if (m) this.taskDep.set(task, m);
    else this.taskDep.delete(task);
  }

  /** tick_nohz_full_kick_cpu(): irq_work_queue_on() of the empty nohz_full_kick_func. */
  kick(cpu: number): void {
    this.k.irq.irqWorkQueueOn(this.k.currentCpu(), cpu, "nohz_full_kick_func");
  }

  /** Closes stopped-time accounting at the end of the run. */
  finish(): void {
    const now = this.k.engine.now;
    for (let cpu = 0; cpu < this.ts.length; cpu++) {
      const ts = this.ts[cpu]!;
      if (ts.stoppedSince >= 0) {
        this.accumulateStopped(cpu, now);
        ts.stoppedSince = now;
      }
    }
  }
}

/** TIMER_SOFTIRQ (include/linux/interrupt.h). */
export const SOFTIRQ_TIMER = 1;
/** RCU_SOFTIRQ (include/linux/interrupt.h). */
export const SOFTIRQ_RCU = 9;
