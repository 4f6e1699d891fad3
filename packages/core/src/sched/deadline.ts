/**
 * The fair server (v6.12 kernel/sched/deadline.c): each CPU's rq->fair_server, a deferred
 * SCHED_DEADLINE server that guarantees CFS tasks fairServerRuntimeNs per fairServerPeriodNs
 * against RT hogs. Only the parts that decide when it enqueues itself are modelled: its runtime and
 * deadline, the dl_throttled / dl_defer_armed / dl_defer_running flags, its hrtimer, the charges of
 * update_curr(), and dl_nr_running. Created only when fairServerRuntimeNs > 0 (runtime 0 is "no
 * fair server": dl_server_start() and dl_server_update() return at once).
 */
import type { Nanoseconds } from "../engine/engine.js";
import { EventPriority } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { Context } from "../machine/cpu.js";
import type { Segment } from "../machine/cpu.js";
import { Src } from "../accounting/sources.js";
import { Policy } from "./task.js";
import { InputError } from "../params.js";
import type { Params } from "../params.js";

/**
 * sched_fair_server_write() (kernel/sched/debug.c, 6.12): a fair server runtime above its period is
 * -EINVAL. Checked on the resolved parameters, so the two may be given in either order.
 */
export function checkFairServerBandwidth(params: Params, given: Record<string, unknown>, field = "kernel.params"): void {
  if (params.fairServerRuntimeNs <= params.fairServerPeriodNs) return;
  const name = "fair_server_runtime_ns" in given ? "fair_server_runtime_ns" : "fair_server_period_ns";
  throw new InputError(
    `${field}.${name}`,
    `runtime ${params.fairServerRuntimeNs} ns exceeds period ${params.fairServerPeriodNs} ns (valid: fair_server_runtime_ns 0 (no fair server) or at most fair_server_period_ns, as sched_fair_server_write() requires)`,
  );
}

/** dl_server_min_res (kernel/sched/deadline.c, 6.12): the defer timer is not pushed for less than 1 ms. */
const DL_SERVER_MIN_RES = 1_000_000;

/* flags[cpu] bits: struct sched_dl_entity's dl_throttled, dl_defer_armed, dl_defer_running, and on_dl_rq(). */
const THROTTLED = 1;
const DEFER_ARMED = 2;
const DEFER_RUNNING = 4;
const ON_RQ = 8;

/** Figures of the fair servers, counted in the measured window (for tests and tools: `kernel.sched.fairServer.fig`; not in the report). */
export interface FairServerFigures {
  /** dl_server_timer() runs (hrtimer expiries, on housekeeping CPUs). */
  timerRuns: number;
  /** Timer runs that enqueued the server (dl_nr_running 0 → 1). */
  timerEnqueues: number;
  /** Timer runs that pushed the defer timer forward (the server could still run in background). */
  timerForwards: number;
  /** update_curr() charges that found the deferred server's runtime consumed in background and started a new period (re-armed it). */
  backgroundRearms: number;
  /** Times the enqueued server's runtime ran out and it was dequeued (dl_throttled). */
  exhausted: number;
}

/** rq->fair_server of every CPU (struct sched_dl_entity, reduced), with dl_server_*() and update_curr_dl_se(). */
export class FairServers {
  /** dl_se->runtime per CPU, ns. */
  readonly runtime: Float64Array;
  /** dl_se->deadline per CPU (absolute), ns. */
  readonly deadline: Float64Array;
  /** dl_throttled, dl_defer_armed, dl_defer_running and on_dl_rq per CPU (bits). */
  private readonly flags: Uint8Array;
  /** dl_se->dl_timer: engine handle of the queued expiry, -1 when not queued. */
  private readonly timerHandle: Float64Array;
  /** Expiry of the queued timer, ns (Infinity when not queued). */
  readonly timerExpires: Float64Array;
  /** Bumped whenever the timer is cancelled or re-armed, so an interrupt already raised for an old expiry does nothing. */
  private readonly timerGen: Uint32Array;
  /** Generation of the expiry whose interrupt is raised, per CPU. */
  private readonly firedGen: Uint32Array;
  /** Whether the server ever started (dl_server_start()'s first call sets it up: setup_new_dl_entity()). */
  private readonly started: Uint8Array;
  /** When the CPU's rq last went empty (its idle time counts as the server's, dl_server_update_idle_time()), -1 if not idle. */
  private readonly idleSince: Float64Array;
  /** Counted figures. */
  readonly fig: FairServerFigures = { timerRuns: 0, timerEnqueues: 0, timerForwards: 0, backgroundRearms: 0, exhausted: 0 };
  private readonly kTimer: number;
  private readonly dlRuntime: Nanoseconds;
  private readonly dlPeriod: Nanoseconds;

  constructor(private readonly k: Kernel) {
    const n = k.nrCpus;
    this.runtime = new Float64Array(n);
    this.deadline = new Float64Array(n);
    this.flags = new Uint8Array(n);
    this.timerHandle = new Float64Array(n).fill(-1);
    this.timerExpires = new Float64Array(n).fill(Infinity);
    this.timerGen = new Uint32Array(n);
    this.firedGen = new Uint32Array(n);
    this.started = new Uint8Array(n);
    this.idleSince = new Float64Array(n).fill(-1);
    this.dlRuntime = k.params.fairServerRuntimeNs;
    this.dlPeriod = k.params.fairServerPeriodNs;
    this.kTimer = k.engine.register("dl_server_timer", (hk, cpu) => this.timerExpired(hk, cpu));
  }

  /** on_dl_rq(&rq->fair_server): the server is enqueued, so it counts in rq->dl.dl_nr_running. */
  enqueued(cpu: number): boolean {
    return (this.flags[cpu]! & ON_RQ) !== 0;
  }

  /**
   * Whether the enqueued server keeps the tick (sched_can_stop_tick(): "Deadline tasks, even if
   * single, need the tick"). From v6.17 ("Don't count nr_running for dl_server proxy tasks") its
   * enqueue no longer calls add_nr_running() → sched_update_tick_dependency(), so nothing sets
   * TICK_DEP_BIT_SCHED for it: the model, which also asks sched_can_stop_tick() at interrupt exit,
   * then does not count it.
   */
  keepsTick(cpu: number): boolean {
    return this.k.params.dlServerCountsNrRunning && (this.flags[cpu]! & ON_RQ) !== 0;
  }

  /**
   * dl_server_start() (kernel/sched/deadline.c, 6.12), from enqueue_task_fair() when the first CFS
   * task of the rq is enqueued (from CPU `from`): idle time counts as the server's
   * (dl_server_update_idle_time()), then enqueue_dl_entity(ENQUEUE_WAKEUP), which for a deferred
   * server arms the defer timer, then resched_curr() — whether or not the server was enqueued.
   */
  start(cpu: number, from: number): void {
    const now = this.k.engine.now;
    if (!this.started[cpu]) {
      // setup_new_dl_entity(): a fresh deadline and runtime.
      this.started[cpu] = 1;
      this.deadline[cpu] = now + this.dlPeriod;
      this.runtime[cpu] = this.dlRuntime;
    } else if (this.idleSince[cpu]! >= 0) this.updateIdleTime(cpu, now - this.idleSince[cpu]!);
    this.idleSince[cpu] = -1;
    // enqueue_dl_entity(dl_se, ENQUEUE_WAKEUP) → update_dl_entity().
    if (this.deadline[cpu]! < now || this.overflow(cpu, now)) this.replenishNewPeriod(cpu, now);
    else if (!(this.flags[cpu]! & DEFER_RUNNING)) this.flags[cpu]! |= DEFER_ARMED | THROTTLED;
    this.enqueueTail(cpu);
    // !dl_task(rq->curr) → resched_curr(), enqueued or deferred: an RT task running there gets a reschedule IPI.
    this.k.sched.reschedCurr(cpu, from);
  }

  /** dl_server_stop(), from dequeue_task_fair() when the rq's last CFS task leaves: dequeue, cancel the timer, disarm. */
  stop(cpu: number, rqEmpty: boolean): void {
    if (this.flags[cpu]! & ON_RQ) this.dequeue(cpu);
    this.cancelTimer(cpu);
    this.flags[cpu]! &= ~(DEFER_ARMED | THROTTLED);
    this.idleSince[cpu] = rqEmpty ? this.k.engine.now : -1;
  }

  /** dl_server_update_idle_time() (6.12): idle time is time the server did not need. */
  private updateIdleTime(cpu: number, idle: Nanoseconds): void {
    if (this.runtime[cpu]! < 0 || idle < 0) return;
    this.runtime[cpu] = this.runtime[cpu]! - idle;
    if (this.runtime[cpu]! < 0) {
      this.flags[cpu]! &= ~DEFER_RUNNING;
      this.runtime[cpu] = 0;
    }
  }

  /**
   * dl_server_update() → update_curr_dl_se() (kernel/sched/deadline.c, 6.12): update_curr() charges
   * `delta` ns of fair run time on `cpu` to the server. A deferred server that used up its runtime
   * in background starts a new period and re-arms its timer; an enqueued one that ran out is
   * throttled, dequeued and its replenishment timer started.
   */
  update(cpu: number, delta: Nanoseconds): void {
    if (delta <= 0) return;
    const f = this.flags[cpu]!;
    this.runtime[cpu] = this.runtime[cpu]! - delta;
    if (this.runtime[cpu]! > 0) return;
    const now = this.k.engine.now;
    if (f & THROTTLED) {
      // The fair tasks got their runtime in background: the server is not needed this period.
      if (this.k.measuring()) this.fig.backgroundRearms++;
      this.k.trace?.instant(this.k.executingCpu, `dl_server_update: cpu=${cpu} runtime used in background, new period`, now);
      this.flags[cpu]! &= ~DEFER_RUNNING;
      this.cancelTimer(cpu);
      this.replenishNewPeriod(cpu, now);
      this.startTimer(cpu, now);
      return;
    }
    if (!(f & ON_RQ)) return;
    // throttle: dequeue_dl_entity(), start_dl_timer() for the replenishment at the next period.
    if (this.k.measuring()) this.fig.exhausted++;
    this.flags[cpu]! |= THROTTLED;
    this.dequeue(cpu);
    if (!this.startTimer(cpu, now)) {
      this.replenish(cpu, now);
      this.enqueue(cpu);
    } else if (this.hasRtTask(cpu)) {
      // !is_leftmost() → resched_curr(): the RT task the server preempted runs again.
      this.k.sched.reschedCurr(cpu);
    }
  }

  /** The rq of `cpu` holds an RT task (the only case where the server's picks differ from plain CFS). */
  private hasRtTask(cpu: number): boolean {
    const tasks = this.k.sched.rqs[cpu]!.tasks;
    for (let i = 0; i < tasks.length; i++) if (tasks[i]!.policy !== Policy.other) return true;
    return false;
  }

  /** The rq of `cpu` holds a CFS task (fair_server_has_tasks(): cfs.nr_running). */
  private hasTasks(cpu: number): boolean {
    const tasks = this.k.sched.rqs[cpu]!.tasks;
    for (let i = 0; i < tasks.length; i++) if (tasks[i]!.policy === Policy.other) return true;
    return false;
  }

  /** dl_entity_overflow(): would runtime / (deadline − t) exceed dl_runtime / dl_deadline? */
  private overflow(cpu: number, t: Nanoseconds): boolean {
    return (this.deadline[cpu]! - t) * this.dlRuntime < this.dlPeriod * this.runtime[cpu]!;
  }

  /** replenish_dl_new_period(): deadline = now + dl_deadline, full runtime; a deferred server not handling starvation is throttled and armed. */
  private replenishNewPeriod(cpu: number, now: Nanoseconds): void {
    this.deadline[cpu] = now + this.dlPeriod;
    this.runtime[cpu] = this.dlRuntime;
    if (!(this.flags[cpu]! & DEFER_RUNNING)) this.flags[cpu]! |= THROTTLED | DEFER_ARMED;
  }

  /**
   * replenish_dl_entity() (6.12): a new period if the armed server would overflow, then postpone the
   * deadline until runtime is positive; unthrottle; an armed replenishment only disarms.
   */
  private replenish(cpu: number, now: Nanoseconds): void {
    const armed = (this.flags[cpu]! & DEFER_ARMED) !== 0;
    if (armed && this.overflow(cpu, now)) {
      this.deadline[cpu] = now + this.dlPeriod;
      this.runtime[cpu] = this.dlRuntime;
    }
    while (this.runtime[cpu]! <= 0) {
      this.deadline[cpu] = this.deadline[cpu]! + this.dlPeriod;
      this.runtime[cpu] = this.runtime[cpu]! + this.dlRuntime;
    }
    if (this.deadline[cpu]! < now) this.replenishNewPeriod(cpu, now);
    this.flags[cpu]! &= ~THROTTLED;
    if (armed) {
      this.flags[cpu]! &= ~DEFER_ARMED;
      return;
    }
    if (!(this.flags[cpu]! & DEFER_RUNNING) && now < this.deadline[cpu]! - this.runtime[cpu]! && this.hasTasks(cpu)) {
      this.flags[cpu]! |= DEFER_ARMED | THROTTLED;
      if (!this.startTimer(cpu, now)) {
        this.cancelTimer(cpu);
        this.flags[cpu]! &= ~(DEFER_ARMED | THROTTLED);
      }
    }
  }

  /** The tail of enqueue_dl_entity(): a still-throttled server waits for its timer; otherwise it is enqueued. */
  private enqueueTail(cpu: number): void {
    const now = this.k.engine.now;
    if (this.flags[cpu]! & THROTTLED && this.startTimer(cpu, now)) return;
    if (this.flags[cpu]! & THROTTLED) {
      this.cancelTimer(cpu);
      this.flags[cpu]! &= ~(DEFER_ARMED | THROTTLED);
    }
    this.enqueue(cpu);
  }

  /**
   * __enqueue_dl_entity() → inc_dl_tasks(): dl_nr_running rises; add_nr_running() (up to 6.16) calls
   * sched_update_tick_dependency(), which kicks a tickless nohz_full CPU (tick_nohz_dep_set_cpu()).
   */
  private enqueue(cpu: number): void {
    this.flags[cpu]! |= ON_RQ;
    if (this.k.params.dlServerCountsNrRunning) this.k.sched.updateTickDependency(cpu);
  }

  /** __dequeue_dl_entity() → dec_dl_tasks(): dl_nr_running falls; sub_nr_running() updates the tick dependency. */
  private dequeue(cpu: number): void {
    this.flags[cpu]! &= ~ON_RQ;
    if (this.k.params.dlServerCountsNrRunning) this.k.sched.updateTickDependency(cpu);
  }

  /**
   * start_dl_timer() (6.12): the timer at deadline − runtime for an armed (deferred) server, at the
   * next period otherwise; false if that instant has passed. A queued timer is left as it is. The
   * hrtimer is HRTIMER_MODE_ABS_HARD and not pinned: hrtimer_start() puts it on the base of
   * get_nohz_timer_target(), a housekeeping CPU when `cpu` is nohz_full.
   */
  private startTimer(cpu: number, now: Nanoseconds): boolean {
    const act = this.flags[cpu]! & DEFER_ARMED ? this.deadline[cpu]! - this.runtime[cpu]! : this.deadline[cpu]!;
    if (act < now) return false;
    if (this.timerHandle[cpu]! >= 0) return true;
    this.armTimer(cpu, act);
    return true;
  }

  /** hrtimer_start(&dl_se->dl_timer, act): queues the expiry on the housekeeping CPU get_nohz_timer_target() picks. */
  private armTimer(cpu: number, act: Nanoseconds): void {
    const k = this.k;
    const target = this.nohzTimerTarget();
    this.timerGen[cpu]!++;
    this.timerExpires[cpu] = act;
    this.timerHandle[cpu] = k.engine.schedule(act, this.kTimer, target, cpu, EventPriority.timer);
  }

  /**
   * get_nohz_timer_target() (kernel/sched/core.c): the executing CPU when it is a busy timer
   * housekeeping CPU, else the first timer housekeeping CPU (the nearest busy one, reduced).
   */
  private nohzTimerTarget(): number {
    const k = this.k;
    const me = k.executingCpu;
    const hk = k.hk.byType.timer;
    if (hk.has(me) && k.cpus[me]!.curr !== null) return me;
    const first = hk.first();
    return first >= 0 ? first : me;
  }

  /** hrtimer_try_to_cancel(&dl_se->dl_timer). */
  private cancelTimer(cpu: number): void {
    const h = this.timerHandle[cpu]!;
    if (h >= 0) this.k.engine.cancel(h);
    this.timerHandle[cpu] = -1;
    this.timerExpires[cpu] = Infinity;
    this.timerGen[cpu]!++;
  }

  /** The timer expired on housekeeping CPU `hk`: hrtimer_interrupt() there runs dl_server_timer() for `cpu`'s server. */
  private timerExpired(hk: number, cpu: number): void {
    const k = this.k;
    this.timerHandle[cpu] = -1;
    this.firedGen[cpu] = this.timerGen[cpu]!;
    // A local timer interrupt that is not the tick, counted under `hrtimer` there (docs/model.md).
    k.irq.raise(hk, k.exec.segments.take("hrtimer_interrupt", k.params.ipiHandlerNs, Context.irq, Src.hrtimer, false, this.onTimerIrq, null, cpu));
  }

  /** The hrtimer interrupt's handler segment started: dl_server_timer() unless the timer was cancelled or re-armed meanwhile. */
  private readonly onTimerIrq = (seg: Segment): void => {
    const cpu = seg.arg;
    if (this.firedGen[cpu] !== this.timerGen[cpu] || this.timerHandle[cpu]! >= 0) return;
    this.timerExpires[cpu] = Infinity;
    this.dlServerTimer(cpu);
  };

  /**
   * dl_server_timer() (kernel/sched/deadline.c, 6.12), on the housekeeping CPU: if the armed server
   * could still run in background, push the timer; otherwise enqueue it (ENQUEUE_REPLENISH) and
   * resched_curr() its CPU — a reschedule IPI — after the enqueue's tick-dependency kick.
   * With dlServerTimerUpdatesCurr (v6.19) the running fair task is charged first (update_curr()).
   */
  private dlServerTimer(cpu: number): void {
    const k = this.k;
    const now = k.engine.now;
    if (k.measuring()) this.fig.timerRuns++;
    if (!(this.flags[cpu]! & THROTTLED)) return;
    if (!this.hasTasks(cpu)) {
      this.replenish(cpu, now);
      return;
    }
    if (k.params.dlServerTimerUpdatesCurr) {
      k.sched.updateCurr(cpu);
      // The charge may have started a new period and re-armed the timer (update_curr_dl_se()).
      if (this.timerHandle[cpu]! >= 0 || !(this.flags[cpu]! & THROTTLED)) return;
    }
    if (this.flags[cpu]! & DEFER_ARMED) {
      const at = this.deadline[cpu]! - this.runtime[cpu]!;
      if (now < at - DL_SERVER_MIN_RES) {
        // hrtimer_forward_now(): HRTIMER_RESTART at deadline − runtime.
        if (k.measuring()) this.fig.timerForwards++;
        this.armTimer(cpu, at);
        return;
      }
      this.flags[cpu]! |= DEFER_RUNNING;
    }
    // enqueue_dl_entity(dl_se, ENQUEUE_REPLENISH).
    this.replenish(cpu, now);
    if (this.flags[cpu]! & THROTTLED && this.startTimer(cpu, now)) return;
    if (k.measuring()) this.fig.timerEnqueues++;
    k.trace?.instant(k.executingCpu, `dl_server_timer: cpu=${cpu} enqueue runtime=${this.runtime[cpu]} deadline=${this.deadline[cpu]}`, now);
    this.enqueue(cpu);
    k.sched.reschedCurr(cpu, k.executingCpu);
  }
}
