import type { Nanoseconds } from "../engine/engine.js";
import { EventPriority } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { Context, segmentOf } from "../machine/cpu.js";
import { NO_SOURCE, Src } from "../accounting/sources.js";
import { timerSetup } from "../time/timer.js";
import type { TimerList } from "../time/timer.js";
import { Policy, TaskState } from "../sched/task.js";
import type { Task } from "../sched/task.js";

/** Interruption keys a work item may count as when a kworker executes it on an isolated CPU. */
export type WorkSource = "kworker_lru_drain" | "kworker_vmstat" | "kworker_other";

/** struct work_struct (include/linux/workqueue.h): a function a kworker runs, with its PENDING bit. */
export interface WorkStruct {
  /** The work function's kernel name (`lru_add_drain_per_cpu`, `vmstat_update`). */
  readonly name: string;
  /** The work function; `cpu` is the CPU whose kworker runs it. */
  readonly func: (cpu: number) => void;
  /** Interruption source (Src index) counted when a kworker starts it, or NO_SOURCE. */
  readonly source: number;
  /** Cost of one run, ns. */
  costNs: Nanoseconds;
  /** WORK_STRUCT_PENDING_BIT: queued on a worklist or waiting on its timer. */
  pending: boolean;
  /** Pool whose worklist holds it, or null. */
  pool: WorkerPool | null;
  /** Pools whose worker is executing it now (pool->current_work == work): flush_work()'s fast test. */
  currentOn: number;
}

/** struct delayed_work: a work item queued when its (optionally TIMER_DEFERRABLE) timer expires. */
export interface DelayedWork extends WorkStruct {
  /** dwork->timer: runs delayed_work_timer_fn() on its CPU. */
  readonly timer: TimerList;
  /** dwork->wq: the workqueue it goes to when the timer fires. */
  wq: WorkqueueStruct | null;
  /** dwork->cpu: target CPU, or WORK_CPU_UNBOUND (-1) for the CPU the timer fires on. */
  cpu: number;
}

/** struct workqueue_struct, reduced to the flags that decide where work runs (kernel/workqueue.c). */
export interface WorkqueueStruct {
  /** Name (`events`, `vmstat`, `lru-add-drain`). */
  readonly name: string;
  /** WQ_UNBOUND: work runs in the unbound pool, on housekeeping CPUs. */
  readonly unbound: boolean;
  /** WQ_HIGHPRI: work runs in the per-CPU highpri pool (kworker/N:0H). */
  readonly highpri: boolean;
  /** WQ_MEM_RECLAIM: the workqueue has a rescuer kthread named after it. */
  readonly memReclaim: boolean;
  /** The rescuer kthread (created at boot), or null. */
  rescuer: Task | null;
}

/** struct worker_pool: a worklist and the kworker that serves it (one worker per pool is modelled). */
export interface WorkerPool {
  /** pool->id (per-CPU pools 2*cpu and 2*cpu+1, then the unbound pool). */
  readonly id: number;
  /** pool->cpu, or -1 for the unbound pool. */
  readonly cpu: number;
  /** Highpri pool (nice -20, `H` suffix). */
  readonly highpri: boolean;
  /** pool->worklist: queued work items (and wq_barrier items of flush_work()), FIFO; a shared empty array until the first item. */
  worklist: WorkStruct[];
  /** The kworker (created at boot), or null before boot. */
  worker: Task | null;
  /** Work item the worker is executing (worker->current_work), or null. */
  current: WorkStruct | null;
  /** Work item the worker took off the worklist and is about to start (process_one_work() before current_work is set), or null. */
  taken: WorkStruct | null;
  /** pool->watchdog_ts: last time the pool started a work item, ns. */
  watchdogTs: Nanoseconds;
}

/** The worklist of every pool that never had an item (frozen: the first item gets the pool its own). */
const NO_WORK: WorkStruct[] = Object.freeze([]) as unknown as WorkStruct[];

/** The pool's own worklist, created on first use. */
function worklistOf(pool: WorkerPool): WorkStruct[] {
  if (pool.worklist === NO_WORK) pool.worklist = [];
  return pool.worklist;
}

/** WORK_CPU_UNBOUND: queue on the local CPU (bound workqueue) or the unbound pool. */
export const WORK_CPU_UNBOUND = -1;

/** A flush_work() in progress: who waits for which work on which pool. */
export interface PendingFlush {
  /** Sequence number. */
  readonly id: number;
  /** The flushed work. */
  readonly work: WorkStruct;
  /** Pool running it. */
  readonly pool: WorkerPool;
  /** The sleeping waiter. */
  readonly waiter: Task;
  /** When the flush began, ns. */
  readonly since: Nanoseconds;
  /** Whether a workqueue-progress violation was already reported for it. */
  reported: boolean;
  /** Engine handle of its watchdog check. */
  watchdogEvent: number;
}

/** Creates a work item (INIT_WORK()); `source` is how its runs count as interruptions. */
export function initWork(name: string, func: (cpu: number) => void, source: WorkSource | null, costNs: Nanoseconds): WorkStruct {
  return { name, func, source: source === null ? NO_SOURCE : Src[source], costNs, pending: false, pool: null, currentOn: 0 };
}

/**
 * might_sleep() (kernel/sched/core.c __might_sleep()): code that may sleep (mutex_lock(), flush_work(),
 * wait_for_completion(), cancel_delayed_work_sync()) called with interrupts disabled on the executing
 * CPU is a model bug: throws "BUG: sleeping function called from invalid context".
 */
export function mightSleep(k: Kernel, what: string): void {
  const cpu = k.executingCpu;
  if (k.cpus[cpu]!.irqsDisabled > 0) {
    throw new Error(`BUG: sleeping function called from invalid context at ${what}: CPU ${cpu} has interrupts disabled (irqs_disabled() = 1)`);
  }
}

/**
 * Blocks `task`, the current task of its CPU, until the returned `complete` is called: it sleeps
 * without using its CPU, then resumes with `then` run as kernel code (wait_for_completion(),
 * kernel/sched/completion.c). Call it only from a segment's `end` effect of `task`.
 */
export function waitForCompletion(k: Kernel, task: Task, then: () => void, resumeSource: number = NO_SOURCE): () => void {
  mightSleep(k, "wait_for_completion()");
  const c = k.cpus[task.cpu]!;
  if (c.curr !== task) throw new Error(`waitForCompletion: ${task.name} is not running on CPU ${task.cpu}`);
  k.sched.sleep(task);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    task.segs.unshift(k.exec.segments.take("wait_for_completion", 0, Context.kernel, resumeSource, task.user, null, then, 0));
    k.sched.wakeUp(task, k.executingCpu);
  };
}

/**
 * Runs `ns` of kernel code on `task` next, then `next` (one step of a blocking kernel function such as
 * lru_add_drain_all()); call it from a segment's effect of `task` or before waking it.
 */
export function kernelStep(task: Task, name: string, ns: Nanoseconds, next: () => void, source: number = NO_SOURCE): void {
  task.segs.unshift(segmentOf(name, ns, Context.kernel, source, task.user, null, next, 0));
}

/** struct mutex with a FIFO of sleeping waiters (kernel/locking/mutex.c), for blocking kernel code. */
export class KernelMutex {
  /** Owner, or null when unlocked. */
  owner: Task | null = null;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly k: Kernel,
    /** Lock name (traces, errors). */
    readonly name: string,
  ) {}

  /** mutex_lock(): takes the lock and runs `then` at once, or sleeps until the owner hands it over. */
  lock(task: Task, then: () => void): void {
    mightSleep(this.k, `mutex_lock(${this.name})`);
    if (this.owner === null) {
      this.owner = task;
      then();
      return;
    }
    const wake = waitForCompletion(this.k, task, then);
    this.waiters.push(() => {
      this.owner = task;
      wake();
    });
  }

  /** mutex_unlock(): hands the lock to the first waiter and wakes it. */
  unlock(task: Task): void {
    if (this.owner !== task) throw new Error(`mutex ${this.name}: unlocked by ${task.name}, owner ${this.owner?.name ?? "none"}`);
    this.owner = null;
    const next = this.waiters.shift();
    if (next) next();
  }
}

/**
 * Workqueues (kernel/workqueue.c): per-CPU bound worker pools (normal and highpri) each served by a
 * kworker created at boot (workqueue_init(): kworker/N:0, kworker/N:0H), an unbound pool on the
 * housekeeping CPUs (kworker/uP:0), queue_work_on(), delayed work on timer_list timers,
 * cancel_delayed_work(), flush_work() with wq_barrier, and the workqueue-progress invariant.
 */
export class Workqueues {
  /** Per-CPU pools: index 2*cpu (normal) and 2*cpu+1 (highpri). */
  readonly pools: WorkerPool[];
  /** The unbound pool (default attrs, one NUMA node). */
  readonly unboundPool: WorkerPool;
  /** Workqueues allocated so far (alloc_workqueue()). */
  readonly workqueues: WorkqueueStruct[] = [];
  /** system_wq ("events"). */
  readonly systemWq: WorkqueueStruct;
  /** system_highpri_wq ("events_highpri"). */
  readonly systemHighpriWq: WorkqueueStruct;
  /** system_unbound_wq ("events_unbound"). */
  readonly systemUnboundWq: WorkqueueStruct;
  /** flush_work() calls still waiting, in start order. */
  readonly pendingFlushes: PendingFlush[] = [];
  private nextFlush = 1;
  private readonly kWatchdog: number;

  constructor(private readonly k: Kernel) {
    this.pools = [];
    for (let cpu = 0; cpu < k.nrCpus; cpu++) {
      for (const highpri of [false, true]) this.pools.push(this.newPool(this.pools.length, cpu, highpri));
    }
    this.unboundPool = this.newPool(this.pools.length, -1, false);
    this.systemWq = this.allocWorkqueue("events");
    this.systemHighpriWq = this.allocWorkqueue("events_highpri", { highpri: true });
    this.systemUnboundWq = this.allocWorkqueue("events_unbound", { unbound: true });
    this.kWatchdog = k.engine.register("wq_watchdog", (_cpu, id) => this.watchdog(id));
    k.invariants.check("workqueue-progress");
    k.hooks.boot.push(() => this.workqueueInit());
    k.invariants.atEnd.push(() => this.checkAtEnd());
  }

  private newPool(id: number, cpu: number, highpri: boolean): WorkerPool {
    return { id, cpu, highpri, worklist: NO_WORK, worker: null, current: null, taken: null, watchdogTs: 0 };
  }

  /** alloc_workqueue(): a workqueue; WQ_MEM_RECLAIM ones get a rescuer kthread at boot. */
  allocWorkqueue(name: string, flags: { unbound?: boolean; highpri?: boolean; memReclaim?: boolean } = {}): WorkqueueStruct {
    const wq: WorkqueueStruct = { name, unbound: flags.unbound ?? false, highpri: flags.highpri ?? false, memReclaim: flags.memReclaim ?? false, rescuer: null };
    this.workqueues.push(wq);
    return wq;
  }

  /** workqueue_init(): the first worker of every pool, then the rescuers of WQ_MEM_RECLAIM workqueues. */
  private workqueueInit(): void {
    const k = this.k;
    for (const pool of this.pools) {
      pool.worker = this.createWorker(pool, `kworker/${pool.cpu}:0${pool.highpri ? "H" : ""}`, pool.cpu);
    }
    const hk = k.hk.housekeeping.isEmpty() ? k.bootCpu : k.hk.housekeeping.first();
    this.unboundPool.worker = this.createWorker(this.unboundPool, `kworker/u${this.unboundPool.id}:0`, hk);
    for (const wq of this.workqueues) {
      if (wq.memReclaim && !wq.rescuer) wq.rescuer = k.sched.createTask({ name: wq.name, cpu: hk, user: false, role: "other" });
    }
  }

  /** create_worker(): a kworker kthread running worker_thread() for `pool`. */
  private createWorker(pool: WorkerPool, name: string, cpu: number): Task {
    const t = this.k.sched.createTask({ name, cpu, user: false, role: "kworker" });
    t.data = pool;
    t.onIdle = this.workerIdle;
    return t;
  }

  /** Every kworker's onIdle: worker_thread() of the pool in its kthread data. */
  private readonly workerIdle = (worker: Task): void => this.workerThread(worker.data as WorkerPool, worker);

  /**
   * worker_thread() → process_one_work(): take the first item of the worklist and run it. The
   * worker runs one item at a time, so its pool carries the item to the segment's shared effects
   * ({@link processOneWork}, {@link workDone}); the segment comes from the executor's pool.
   */
  private workerThread(pool: WorkerPool, worker: Task): void {
    if (pool.worklist.length === 0) return;
    const work = pool.worklist.shift();
    if (!work) return;
    work.pool = null;
    pool.taken = work;
    worker.segs.push(this.k.exec.segments.take(work.name, work.costNs, Context.kernel, work.source, false, this.processOneWork, this.workDone, 0));
  }

  /** The start of a work item's segment on its kworker (the current task): current_work is set, PENDING cleared, the function runs. */
  private readonly processOneWork = (): void => {
    const k = this.k;
    const worker = k.cpus[k.executingCpu]!.curr!;
    const pool = worker.data as WorkerPool;
    const work = pool.taken!;
    pool.taken = null;
    const now = k.engine.now;
    this.setCurrent(pool, work);
    pool.watchdogTs = now;
    work.pending = false;
    k.trace?.instant(worker.cpu, `workqueue_execute_start: function ${work.name}`, now);
    work.func(worker.cpu);
  };

  /** The end of a work item's segment on its kworker: current_work is cleared. */
  private readonly workDone = (): void => {
    const k = this.k;
    const pool = k.cpus[k.executingCpu]!.curr!.data as WorkerPool;
    if (pool.current !== null) this.setCurrent(pool, null);
  };

  /** Sets pool->current_work, counting the pools each work item is current on (flushWork()'s fast path). */
  private setCurrent(pool: WorkerPool, work: WorkStruct | null): void {
    const old = pool.current;
    if (old) old.currentOn--;
    pool.current = work;
    if (work) work.currentOn++;
  }

  /** The pool a work item queued on `wq` for `cpu` goes to (__queue_work()). */
  poolFor(wq: WorkqueueStruct, cpu: number): WorkerPool {
    if (wq.unbound) return this.unboundPool;
    const target = cpu === WORK_CPU_UNBOUND ? this.k.executingCpu : cpu;
    return this.pools[2 * target + (wq.highpri ? 1 : 0)]!;
  }

  /**
   * insert_work(): append to the pool's worklist and wake its kworker (a remote wakeup sends the
   * resched IPI). The workqueue_queue_work tracepoint (__queue_work()) fires on the queuing CPU, with
   * the requested CPU (`reqCpu`, WORK_CPU_UNBOUND = -1) and the pool's CPU as fields.
   */
  private insertWork(pool: WorkerPool, work: WorkStruct, reqCpu: number): void {
    const k = this.k;
    work.pool = pool;
    worklistOf(pool).push(work);
    if (pool.worklist.length === 1 && pool.current === null) pool.watchdogTs = k.engine.now;
    k.trace?.instant(k.executingCpu, `workqueue_queue_work: function=${work.name} workqueue=pool${pool.id} req_cpu=${reqCpu} cpu=${pool.cpu}`, k.engine.now);
    const w = pool.worker;
    if (w && w.state === TaskState.sleeping) k.sched.wakeUp(w, k.executingCpu);
  }

  /** queue_work_on(): queues `work` on `cpu`'s pool of `wq` unless already pending; true if queued. */
  queueWorkOn(cpu: number, wq: WorkqueueStruct, work: WorkStruct): boolean {
    if (work.pending) return false;
    work.pending = true;
    this.insertWork(this.poolFor(wq, cpu), work, cpu);
    return true;
  }

  /** INIT_DELAYED_WORK() / INIT_DEFERRABLE_WORK(): a delayed work item whose timer is deferrable or not. */
  initDelayedWork(name: string, func: (cpu: number) => void, source: WorkSource | null, costNs: Nanoseconds, deferrable: boolean): DelayedWork {
    // A literal rather than a spread of initWork(): a spread gives every item its own hidden class.
    const dw: DelayedWork = {
      name,
      func,
      source: source === null ? NO_SOURCE : Src[source],
      costNs,
      pending: false,
      pool: null,
      currentOn: 0,
      timer: timerSetup(name, () => this.delayedWorkTimerFn(dw), deferrable),
      wq: null,
      cpu: WORK_CPU_UNBOUND,
    };
    return dw;
  }

  /** delayed_work_timer_fn(): the timer fired on its CPU: queue the work (dwork->cpu or this CPU). */
  private delayedWorkTimerFn(dw: DelayedWork): void {
    const wq = dw.wq ?? this.systemWq;
    this.insertWork(this.poolFor(wq, dw.cpu), dw, dw.cpu);
  }

  /**
   * queue_delayed_work_on(): unless pending, queue `dw` on `cpu` after `delay` ns (rounded up to
   * jiffies), at once when 0. The timer goes on `cpu` (add_timer_on()), or for WORK_CPU_UNBOUND on
   * this CPU if it is a housekeeping CPU, else on a housekeeping CPU (get_nohz_timer_target()).
   */
  queueDelayedWorkOn(cpu: number, wq: WorkqueueStruct, dw: DelayedWork, delay: Nanoseconds): boolean {
    if (dw.pending) return false;
    dw.pending = true;
    dw.wq = wq;
    dw.cpu = cpu;
    if (delay <= 0) {
      this.insertWork(this.poolFor(wq, cpu), dw, cpu);
      return true;
    }
    const k = this.k;
    const p = k.tickPeriod;
    const expires = (Math.floor(k.engine.now / p) + Math.ceil(delay / p)) * p;
    let timerCpu = cpu;
    if (cpu === WORK_CPU_UNBOUND) {
      const here = k.executingCpu;
      timerCpu = k.hk.housekeeping.has(here) || k.hk.housekeeping.isEmpty() ? here : k.hk.housekeeping.first();
    }
    k.timers.addOn(dw.timer, timerCpu, expires);
    return true;
  }

  /** delayed_work_pending(). */
  delayedWorkPending(dw: DelayedWork): boolean {
    return dw.pending;
  }

  /**
   * cancel_delayed_work(): takes a pending item off its timer or worklist (try_to_grab_pending());
   * does not wait for a running one. True if it was pending.
   */
  cancelDelayedWork(dw: DelayedWork): boolean {
    if (!dw.pending) return false;
    if (!this.k.timers.del(dw.timer) && dw.pool) {
      const list = dw.pool.worklist;
      const i = list.indexOf(dw);
      if (i >= 0) list.splice(i, 1);
      dw.pool = null;
    }
    dw.pending = false;
    return true;
  }

  /**
   * flush_work(): if `work` is queued or running, insert a wq_barrier after it (insert_wq_barrier())
   * and put `waiter` — the current task of its CPU — to sleep until the kworker runs the barrier;
   * `then` runs when it is woken. Returns false, without sleeping, when there is nothing to wait for
   * (then `then` is not called: the caller goes on). Call it from a segment's `end` effect of `waiter`.
   */
  flushWork(work: WorkStruct, waiter: Task, then: () => void): boolean {
    const k = this.k;
    mightSleep(k, `flush_work(${work.name})`);
    let pool: WorkerPool | null = null;
    let at = -1;
    if (work.pool) {
      pool = work.pool;
      at = pool.worklist.indexOf(work) + 1;
    } else if (work.currentOn > 0) {
      pool = this.pools.find((p) => p.current === work) ?? (this.unboundPool.current === work ? this.unboundPool : null);
      at = 0;
    }
    if (!pool || at < 0) return false;
    const flush: PendingFlush = { id: this.nextFlush++, work, pool, waiter, since: k.engine.now, reported: false, watchdogEvent: 0 };
    this.pendingFlushes.push(flush);
    const complete = waitForCompletion(k, waiter, () => {
      this.flushDone(flush);
      then();
    }, waiter.user ? NO_SOURCE : Src.kthread);
    const barrier = initWork("wq_barrier_func", () => complete(), null, k.params.wqBarrierNs);
    barrier.pending = true;
    barrier.pool = pool;
    worklistOf(pool).splice(at, 0, barrier);
    flush.watchdogEvent = k.engine.schedule(flush.since + k.params.workqueueStallNs, this.kWatchdog, waiter.cpu, flush.id, EventPriority.late);
    return true;
  }

  private flushDone(f: PendingFlush): void {
    const i = this.pendingFlushes.indexOf(f);
    if (i >= 0) this.pendingFlushes.splice(i, 1);
    this.k.engine.cancel(f.watchdogEvent);
  }

  /** wq_watchdog_timer_fn() applied to flushes: one still waiting after workqueue_stall_ns is reported. */
  private watchdog(id: number): void {
    const f = this.pendingFlushes.find((x) => x.id === id);
    if (!f || f.reported) return;
    this.k.invariants.evaluate("workqueue-progress");
    this.reportStall(f);
  }

  private reportStall(f: PendingFlush): void {
    const k = this.k;
    f.reported = true;
    const worker = f.pool.worker;
    const cpu = f.pool.cpu;
    const curr = cpu >= 0 ? k.cpus[cpu]!.curr : null;
    const policy = curr?.policy === Policy.fifo ? "SCHED_FIFO" : curr?.policy === Policy.rr ? "SCHED_RR" : "SCHED_OTHER";
    const starver = curr && curr !== worker ? `; CPU ${cpu} runs ${curr.name} (${policy}${curr.rtPriority ? ` ${curr.rtPriority}` : ""})` : "";
    const waited = ((k.engine.now - f.since) / 1e9).toFixed(3);
    k.invariants.violate(
      "workqueue-progress",
      cpu,
      `flush_work(${f.work.name}) by ${f.waiter.name} on CPU ${f.waiter.cpu} has waited ${waited} s for ${worker?.name ?? "no worker"} (pool ${f.pool.id} stuck since ${(f.pool.watchdogTs / 1e9).toFixed(3)} s)${starver}`,
    );
  }

  /** End of run: a flush still waiting is reported if it waited workqueue_stall_ns, or its kworker never ran for workqueue_starved_ns. */
  private checkAtEnd(): void {
    const k = this.k;
    const now = k.engine.now;
    for (const f of this.pendingFlushes) {
      if (f.reported) continue;
      k.invariants.evaluate("workqueue-progress");
      const waited = now - f.since;
      const starved = f.pool.watchdogTs <= f.since && waited >= k.params.workqueueStarvedNs;
      if (waited >= k.params.workqueueStallNs || starved) this.reportStall(f);
    }
  }
}
