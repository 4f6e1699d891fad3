import type { Nanoseconds } from "../engine/engine.js";
import { EventPriority } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { Context } from "../machine/cpu.js";
import { EntryKind } from "../arch/x86/entry.js";
import type { Segment } from "../machine/cpu.js";
import { TickDep } from "../time/tick-sched.js";
import { Policy, TaskState } from "./task.js";
import { insertAt, removeAt } from "../util/array.js";
import { FairServers } from "./deadline.js";
import type { KthreadRole, PolicyId, Task, TaskStateId } from "./task.js";

/** Options of a new task. */
export interface TaskOptions {
  /** comm. */
  name: string;
  /** CPU it is bound to. */
  cpu: number;
  /** User task (true) or kernel thread. */
  user: boolean;
  /** Kernel thread role for the report. */
  role?: KthreadRole;
  /** Scheduling policy (default SCHED_OTHER). */
  policy?: PolicyId;
  /** RT priority for fifo/rr. */
  rtPriority?: number;
}

/** A per-CPU runqueue (struct rq, reduced). */
export interface Runqueue {
  /** Runnable tasks, current included, in enqueue order (a new array when the first one is ever enqueued). */
  tasks: Task[];
  /** rt_rq->rt_time: RT runtime in the current period, ns. */
  rtTime: Nanoseconds;
  /** rt_rq->rt_throttled. */
  rtThrottled: boolean;
  /** Last update of RT runtime accounting. */
  rtClock: Nanoseconds;
}

const NO_TASKS: readonly Task[] = Object.freeze([]);

/** The `tasks` of every runqueue before its first enqueue (replaced then, never written). */
const UNUSED_RQ: Task[] = [];

/** Per-task times in Float64Array pages of 256 tasks, allocated on the first non-zero write, so idle tasks hold no boxed numbers. */
class TaskTimes {
  /** [vruntime, sumExec, sliceStart, execStart] of pid p at page p >> 8, slots 4(p & 255)..+3. */
  readonly pages: (Float64Array | undefined)[] = [];

  /** Time `slot` of `pid` (0 until written). */
  get(pid: number, slot: number): Nanoseconds {
    const page = this.pages[pid >> 8];
    return page === undefined ? 0 : page[4 * (pid & 255) + slot]!;
  }

  /** Sets time `slot` of `pid`. */
  set(pid: number, slot: number, v: Nanoseconds): void {
    let page = this.pages[pid >> 8];
    if (page === undefined) {
      if (Object.is(v, 0)) return;
      page = this.alloc(pid);
    }
    page[4 * (pid & 255) + slot] = v;
  }

  /** Allocates the (absent) page of `pid`. */
  alloc(pid: number): Float64Array {
    while (this.pages.length < pid >> 8) this.pages.push(undefined);
    return (this.pages[pid >> 8] = new Float64Array(1024));
  }
}

const ROLES: readonly (KthreadRole | null)[] = [null, "kworker", "rcu_callback", "rcu_gp", "other"];

/*
 * TaskStruct.bits: state (bits 0-1), returning (2), user (3), role index in ROLES (4-6),
 * policy (7-8), rtPriority (9-15), so a task holds one small integer for them.
 */
const STATE_MASK = 0b11;
const RETURNING = 1 << 2;
const USER = 1 << 3;
const ROLE_SHIFT = 4;
const POLICY_SHIFT = 7;
const PRIO_SHIFT = 9;

/** A task's policy must be one of {@link Policy}'s values (2 bits). */
function checkPolicy(name: string, v: number): void {
  if (v !== Policy.other && v !== Policy.fifo && v !== Policy.rr) throw new Error(`task ${name}: policy ${v} is not valid (valid: 0 SCHED_OTHER, 1 SCHED_FIFO, 2 SCHED_RR)`);
}

/** A task's RT priority must fit its 7 bits: 0 for SCHED_OTHER, 1-99 for SCHED_FIFO/SCHED_RR. */
function checkRtPriority(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 99) throw new Error(`task ${name}: rtPriority ${v} is out of range (valid: an integer 0-99)`);
}

/** struct task_struct (reduced): {@link Task} with its flags packed in one integer, its scheduler times in {@link TaskTimes} and its work lists created on first use. */
class TaskStruct implements Task {
  onIdle: ((task: Task) => void) | null = null;
  data: unknown = null;
  wakeups = 0;
  private bits: number;
  private segList: Segment[] | null = null;
  private entryList: (() => void)[] | null = null;

  constructor(
    readonly pid: number,
    readonly name: string,
    user: boolean,
    role: KthreadRole | null,
    policy: PolicyId,
    rtPriority: number,
    public cpu: number,
    private readonly times: TaskTimes,
  ) {
    const roleIndex = ROLES.indexOf(role);
    if (roleIndex < 0) throw new Error(`task ${name}: role ${JSON.stringify(role)} is not valid (valid: ${ROLES.filter((r) => r !== null).join(", ")})`);
    checkRtPriority(name, rtPriority);
    checkPolicy(name, policy);
    this.bits = TaskState.sleeping | (user ? USER : 0) | (roleIndex << ROLE_SHIFT) | (policy << POLICY_SHIFT) | (rtPriority << PRIO_SHIFT);
  }

  get user(): boolean {
    return (this.bits & USER) !== 0;
  }

  get role(): KthreadRole | null {
    return ROLES[(this.bits >> ROLE_SHIFT) & 0b111]!;
  }

  get state(): TaskStateId {
    return (this.bits & STATE_MASK) as TaskStateId;
  }

  set state(v: TaskStateId) {
    this.bits = (this.bits & ~STATE_MASK) | v;
  }

  get returning(): boolean {
    return (this.bits & RETURNING) !== 0;
  }

  set returning(v: boolean) {
    this.bits = v ? this.bits | RETURNING : this.bits & ~RETURNING;
  }

  get policy(): PolicyId {
    return ((this.bits >> POLICY_SHIFT) & 0b11) as PolicyId;
  }

  set policy(v: PolicyId) {
    checkPolicy(this.name, v);
    this.bits = (this.bits & ~(0b11 << POLICY_SHIFT)) | (v << POLICY_SHIFT);
  }

  get rtPriority(): number {
    return (this.bits >> PRIO_SHIFT) & 0x7f;
  }

  set rtPriority(v: number) {
    checkRtPriority(this.name, v);
    this.bits = (this.bits & ~(0x7f << PRIO_SHIFT)) | (v << PRIO_SHIFT);
  }

  get segs(): Segment[] {
    return (this.segList ??= []);
  }

  get pendingEntries(): (() => void)[] {
    return (this.entryList ??= []);
  }

  get vruntime(): Nanoseconds {
    return this.times.get(this.pid, 0);
  }

  set vruntime(v: Nanoseconds) {
    this.times.set(this.pid, 0, v);
  }

  get sumExec(): Nanoseconds {
    return this.times.get(this.pid, 1);
  }

  set sumExec(v: Nanoseconds) {
    this.times.set(this.pid, 1, v);
  }

  get sliceStart(): Nanoseconds {
    return this.times.get(this.pid, 2);
  }

  set sliceStart(v: Nanoseconds) {
    this.times.set(this.pid, 2, v);
  }

  get execStart(): Nanoseconds {
    return this.times.get(this.pid, 3);
  }

  set execStart(v: Nanoseconds) {
    this.times.set(this.pid, 3, v);
  }
}

const isRt = (t: Task): boolean => t.policy !== Policy.other;

/** The scheduler: runqueues, wakeups, preemption, tick hooks (kernel/sched/core.c, fair.c, rt.c). */
export class Scheduler {
  /** Runqueues, indexed by CPU. */
  readonly rqs: Runqueue[];
  /** Every task ever created, in pid order. */
  readonly tasks: Task[] = [];
  /** User tasks by CPU, in pid order (absent for a CPU without any): kept as tasks are created. */
  private readonly userByCpu: (Task[] | undefined)[] = [];
  /** vruntime, sum_exec_runtime, prev_sum_exec_runtime and exec_start of every task, by pid. */
  private readonly times = new TaskTimes();
  private nextPid = 1;
  private readonly factor: number;
  private rtPeriodArmed = false;
  /** rt_rq->rt_runtime per CPU once RT_RUNTIME_SHARE moved some (-1: the sysctl value). */
  private readonly rtRuntime: Float64Array;
  private readonly kRtPeriod: number;
  private readonly kIdlePollExit: number;
  /** Per CPU, TIF_NEED_RESCHED_LAZY of its current task (params.preemptLazy; cleared at every switch). */
  private readonly reschedLazy: Uint8Array;
  /** rq->fair_server of every CPU (v6.12 deferred dl server), null without one (fairServerRuntimeNs 0). */
  readonly fairServer: FairServers | null;

  constructor(private readonly k: Kernel) {
    this.rqs = Array.from({ length: k.nrCpus }, () => ({ tasks: UNUSED_RQ, rtTime: 0, rtThrottled: false, rtClock: 0 }));
    this.rtRuntime = new Float64Array(k.nrCpus).fill(-1);
    this.factor = 1 + Math.floor(Math.log2(Math.min(k.nrCpus, 8)));
    this.kRtPeriod = k.engine.register("sched_rt_period_timer", () => this.rtPeriodTimer());
    // Registered only when used, so kernels without polling idle keep the same event kinds.
    this.kIdlePollExit = k.params.idlePoll ? k.engine.register("idle_poll_exit", (cpu) => this.idlePollExit(cpu)) : -1;
    this.reschedLazy = new Uint8Array(k.nrCpus);
    if (k.params.preemptLazy) k.hooks.exitToUserMode.push((cpu) => this.exitToUserLazy(cpu));
    this.fairServer = k.params.fairServerRuntimeNs > 0 ? new FairServers(k) : null;
  }

  /** Scaled sysctl_sched_latency (SCHED_TUNABLESCALING_LOG). */
  get latencyNs(): Nanoseconds {
    return this.k.params.schedLatencyNs * this.factor;
  }

  /** Scaled sysctl_sched_min_granularity. */
  get minGranularityNs(): Nanoseconds {
    return this.k.params.schedMinGranularityNs * this.factor;
  }

  /** Creates a task, sleeping until woken (copy_process(); kthread_create_on_cpu()). */
  createTask(o: TaskOptions): Task {
    const t = new TaskStruct(this.nextPid++, o.name, o.user, o.user ? null : (o.role ?? "other"), o.policy ?? Policy.other, o.rtPriority ?? 0, o.cpu, this.times);
    this.tasks.push(t);
    if (t.user) {
      const list = this.userByCpu[t.cpu];
      if (list) list.push(t);
      else this.userByCpu[t.cpu] = [t];
    }
    if (isRt(t) && !this.rtPeriodArmed && this.k.params.schedRtRuntimeNs >= 0) {
      this.rtPeriodArmed = true;
      this.k.engine.schedule(this.k.engine.now + this.k.params.schedRtPeriodNs, this.kRtPeriod, this.k.bootCpu, 0, EventPriority.timer);
    }
    return t;
  }

  /** The user tasks bound to `cpu`, in pid order (the same array until a task is created there). */
  userTasksOf(cpu: number): readonly Task[] {
    return this.userByCpu[cpu] ?? NO_TASKS;
  }

  /** update_curr(): charge the running task's runtime since exec_start. */
  updateCurr(cpu: number): void {
    const t = this.k.cpus[cpu]!.curr;
    if (!t) return;
    const now = this.k.engine.now;
    // The task's times read and written in its TaskTimes page (allocated by the write of now > 0).
    const pid = t.pid;
    const times = this.times;
    let page = times.pages[pid >> 8];
    const o = 4 * (pid & 255);
    const d = now - (page === undefined ? 0 : page[o + 3]!);
    if (d <= 0) return;
    if (page === undefined) page = times.alloc(pid);
    page[o + 3] = now;
    page[o + 1] = page[o + 1]! + d;
    if (isRt(t)) {
      const rq = this.rqs[cpu]!;
      rq.rtTime += d;
    } else {
      page[o] = page[o]! + d;
      // update_curr() (6.12 fair.c): fair run time is charged to rq->fair_server (dl_server_update()).
      if (this.fairServer !== null) this.fairServer.update(cpu, d);
    }
  }

  /** min_vruntime of the CFS tasks of `rq` other than `except` (Infinity if none). */
  private minVruntime(rq: Runqueue, except: Task | null): number {
    let m = Infinity;
    const tasks = rq.tasks;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      if (t === except || isRt(t)) continue;
      const v = t.vruntime;
      if (v < m) m = v;
    }
    return m;
  }

  /** Wakes a sleeping task on its CPU; true if it was sleeping (try_to_wake_up()). */
  wakeUp(task: Task, from: number = this.k.executingCpu): boolean {
    if (task.state !== TaskState.sleeping) return false;
    const cpu = task.cpu;
    const rq = this.rqs[cpu]!;
    this.updateCurr(cpu);
    if (!isRt(task)) {
      const min = this.minVruntime(rq, task);
      if (min !== Infinity) this.times.set(task.pid, 0, Math.max(task.vruntime, min - this.latencyNs / 2));
    }
    task.state = TaskState.runnable;
    task.wakeups++;
    // enqueue_task_fair() (6.12): the rq's first CFS task starts the fair server (dl_server_start()).
    const startServer = this.fairServer !== null && !isRt(task) && !this.hasCfs(rq);
    if (rq.tasks === UNUSED_RQ) rq.tasks = [task];
    else rq.tasks.push(task);
    if (startServer) this.fairServer!.start(cpu, from);
    this.k.trace?.instant(from, `sched_wakeup: comm=${task.name} pid=${task.pid} target_cpu=${cpu}`, this.k.engine.now);
    for (const h of this.k.hooks.schedWakeup) h(task, from);
    this.updateTickDependency(cpu);
    if (this.shouldPreempt(cpu, task)) {
      if (this.k.params.preemptLazy && !isRt(task) && this.k.cpus[cpu]!.curr !== null && !isRt(this.k.cpus[cpu]!.curr!)) this.reschedCurrLazy(cpu, from);
      else this.reschedCurr(cpu, from);
    }
    return true;
  }

  /** check_preempt_curr(): whether the woken task preempts the CPU's current one. */
  private shouldPreempt(cpu: number, task: Task): boolean {
    const curr = this.k.cpus[cpu]!.curr;
    if (!curr) return true;
    const rq = this.rqs[cpu]!;
    if (isRt(task)) return !isRt(curr) || task.rtPriority > curr.rtPriority;
    if (isRt(curr) && !rq.rtThrottled) return false;
    if (isRt(curr)) return true;
    return curr.vruntime - task.vruntime > this.k.params.schedMinGranularityNs * (4 / 3) * this.factor;
  }

  /** resched_curr(): set TIF_NEED_RESCHED, with a reschedule IPI when the CPU is remote. */
  reschedCurr(cpu: number, from: number = this.k.executingCpu): void {
    const c = this.k.cpus[cpu]!;
    if (c.needResched) return;
    c.needResched = true;
    if (cpu !== from) {
      if (this.idlePolling(cpu)) this.wakeIdleWithoutIpi(from, cpu);
      else this.k.irq.sendReschedule(from, cpu);
    } else if (!c.inIrq && !c.running) this.k.exec.dispatch(c);
  }

  /**
   * resched_curr_lazy() (v6.13 kernel/sched/core.c, "sched: Add Lazy preemption model"; in the
   * 6.12 PREEMPT_RT build; shared/kernel-model.md §11): check_preempt_wakeup_fair() of a CFS task
   * over a CFS task only sets TIF_NEED_RESCHED_LAZY — __resched_curr() sends smp_send_reschedule()
   * for TIF_NEED_RESCHED alone, so no reschedule IPI. The switch comes at the CPU's next return to
   * user mode (EXIT_TO_USER_MODE_WORK includes _TIF_NEED_RESCHED_LAZY) or at its next tick, which
   * promotes the bit (sched_tick()).
   */
  private reschedCurrLazy(cpu: number, from: number): void {
    if (this.k.cpus[cpu]!.needResched || this.reschedLazy[cpu]) return;
    this.reschedLazy[cpu] = 1;
    this.k.trace?.instant(from, `sched_resched_lazy: cpu=${cpu}`, this.k.engine.now);
  }

  /** exit_to_user_mode_loop() (kernel/entry/common.c, v6.13): _TIF_NEED_RESCHED_LAZY makes the return to user call schedule(). */
  private exitToUserLazy(cpu: number): void {
    if (!this.reschedLazy[cpu]) return;
    this.reschedLazy[cpu] = 0;
    this.k.cpus[cpu]!.needResched = true;
  }

  /** wake_up_idle_cpu(): an idle CPU re-evaluates its next event (a reschedule IPI unless it polls). */
  reschedIpiIdle(cpu: number): void {
    const from = this.k.executingCpu;
    if (this.idlePolling(cpu)) this.wakeIdleWithoutIpi(from, cpu);
    else this.k.irq.sendReschedule(from, cpu);
  }

  /** Whether `cpu` sits in a polling idle loop (TIF_POLLING_NRFLAG: mwait or idle=poll) that needs no IPI. */
  private idlePolling(cpu: number): boolean {
    const c = this.k.cpus[cpu]!;
    return this.k.params.idlePoll && c.curr === null && c.ctx === Context.idle && !c.inIrq;
  }

  /**
   * set_nr_if_polling() (kernel/sched/core.c): the waker sets TIF_NEED_RESCHED in the polled flags
   * word; the idle CPU leaves mwait after the wakeup latency with no interrupt (trace:
   * sched_wake_idle_without_ipi).
   */
  private wakeIdleWithoutIpi(from: number, cpu: number): void {
    const k = this.k;
    k.trace?.instant(from, `sched_wake_idle_without_ipi: cpu=${cpu}`, k.engine.now);
    k.engine.schedule(k.engine.now + k.params.ipiLatencyNs, this.kIdlePollExit, cpu, 0, EventPriority.hardware);
  }

  /** The polling idle loop sees need_resched (or a new timer): it leaves idle and schedules. */
  private idlePollExit(cpu: number): void {
    const k = this.k;
    const c = k.cpus[cpu]!;
    if (c.inIrq || c.ctx !== Context.idle) return;
    const prev = k.executingCpu;
    k.executingCpu = cpu;
    if (c.needResched) k.exec.dispatch(c);
    else {
      // No task to run: do_idle() goes round again, re-evaluating the tick for the new timer.
      k.tick.idleExit(cpu);
      k.tick.idleEnter(cpu);
    }
    k.executingCpu = prev;
  }

  /** The current kthread has no more work: it sleeps and the CPU reschedules. */
  sleep(task: Task): void {
    const cpu = task.cpu;
    const rq = this.rqs[cpu]!;
    this.updateCurr(cpu);
    const i = rq.tasks.indexOf(task);
    if (i >= 0) removeAt(rq.tasks, i);
    task.state = TaskState.sleeping;
    // dequeue_task_fair() (6.12): the rq's last CFS task leaving stops the fair server (dl_server_stop()).
    if (this.fairServer !== null && !isRt(task) && !this.hasCfs(rq)) this.fairServer.stop(cpu, rq.tasks.length === 0);
    this.updateTickDependency(cpu);
    this.k.cpus[cpu]!.needResched = true;
  }

  /** Whether `rq` holds a CFS task (rq->cfs.h_nr_running > 0). */
  private hasCfs(rq: Runqueue): boolean {
    const tasks = rq.tasks;
    for (let i = 0; i < tasks.length; i++) if (!isRt(tasks[i]!)) return true;
    return false;
  }

  /**
   * pick_next_task(): highest RT priority unless throttled, then the CFS task with least vruntime.
   * An enqueued fair server (deadline class, above RT) picks the CFS task first (6.12 pick_task_dl()).
   */
  private pickNext(cpu: number): Task | null {
    const rq = this.rqs[cpu]!;
    const curr = this.k.cpus[cpu]!.curr;
    const tasks = rq.tasks;
    const n = tasks.length;
    let best: Task | null = null;
    if (!rq.rtThrottled && !(this.fairServer !== null && this.fairServer.enqueued(cpu))) {
      let bestPrio = 0;
      for (let i = 0; i < n; i++) {
        const t = tasks[i]!;
        if (!isRt(t)) continue;
        const prio = t.rtPriority;
        if (!best || prio > bestPrio || (t === curr && prio === bestPrio)) {
          best = t;
          bestPrio = prio;
        }
      }
      if (best) return best;
    }
    let bestV = 0;
    for (let i = 0; i < n; i++) {
      const t = tasks[i]!;
      if (isRt(t)) continue;
      const v = t.vruntime;
      if (!best || v < bestV || (t === curr && v === bestV)) {
        best = t;
        bestV = v;
      }
    }
    return best;
  }

  /** __schedule(): switch to the next task, paying the context-switch cost. */
  schedule(cpu: number): void {
    const k = this.k;
    const c = k.cpus[cpu]!;
    c.needResched = false;
    this.reschedLazy[cpu] = 0;
    this.updateCurr(cpu);
    const prev = c.curr;
    const next = this.pickNext(cpu);
    for (const h of k.hooks.contextSwitch) h(cpu);
    if (next === prev) return;
    const now = k.engine.now;
    if (prev && prev.state === TaskState.running) prev.state = TaskState.runnable;
    if (prev && prev.user) prev.returning = false;
    c.curr = next;
    const prevState = prev && prev.state === TaskState.sleeping ? "S" : "R";
    k.trace?.instant(cpu, `sched_switch: prev_comm=${prev?.name ?? "swapper"} prev_state=${prevState} next_comm=${next?.name ?? "swapper"}`, now);
    for (const h of k.hooks.schedSwitch) h(cpu, prev, next);
    if (!next) return;
    let charged = 0;
    if (c.ctx === Context.idle) {
      c.ctx = Context.kernel;
      charged = k.entry.enter(cpu, EntryKind.idleExit);
    }
    if (!prev) k.tick.idleExit(cpu);
    next.state = TaskState.running;
    // next.execStart = now; next.sliceStart = next.sumExec; in its TaskTimes page (none while both are 0).
    const times = this.times;
    const pid = next.pid;
    let page = times.pages[pid >> 8];
    if (page === undefined && !Object.is(now, 0)) page = times.alloc(pid);
    if (page !== undefined) {
      const o = 4 * (pid & 255);
      page[o + 3] = now;
      page[o + 2] = page[o + 1]!;
    }
    const sw = k.exec.segments.take("sched_switch", k.params.contextSwitchNs + charged, Context.kernel, -1, false, null, null, 0);
    insertAt(next.segs, 0, sw);
    if (isRt(next)) this.rqs[cpu]!.rtClock = now;
  }

  /** sched_can_stop_tick() (4.9/6.1 kernel/sched/core.c; 6.12 first checks rq->dl.dl_nr_running, the fair server's). */
  canStopTick(cpu: number): boolean {
    if (this.fairServer !== null && this.fairServer.keepsTick(cpu)) return false;
    const tasks = this.rqs[cpu]!.tasks;
    const n = tasks.length;
    let rr = 0, fifo = 0;
    for (let i = 0; i < n; i++) {
      const policy = tasks[i]!.policy;
      if (policy === Policy.rr) rr++;
      else if (policy === Policy.fifo) fifo++;
    }
    if (rr) return rr === 1;
    if (fifo) return true;
    return n <= 1;
  }

  /** sched_update_tick_dependency(): set or clear TICK_DEP_BIT_SCHED of a nohz_full CPU. */
  updateTickDependency(cpu: number): void {
    if (!this.k.cpus[cpu]!.nohzFull) return;
    if (this.canStopTick(cpu)) this.k.tick.depClearCpu(cpu, TickDep.SCHED);
    else this.k.tick.depSetCpu(cpu, TickDep.SCHED);
  }

  /**
   * scheduler_tick(): runtime accounting, CFS slice expiry, RT throttling. `from` is the CPU running
   * it: another CPU for sched_tick_remote(), whose resched_curr() then sends a reschedule IPI.
   */
  schedulerTick(cpu: number, from: number = cpu): void {
    const c = this.k.cpus[cpu]!;
    const t = c.curr;
    if (!t) return;
    // sched_tick() (v6.13): a pending TIF_NEED_RESCHED_LAZY becomes TIF_NEED_RESCHED at the CPU's own tick.
    if (from === cpu && this.reschedLazy[cpu]) this.reschedCurr(cpu, cpu);
    this.updateCurr(cpu);
    const rq = this.rqs[cpu]!;
    if (isRt(t)) {
      if (this.rtRuntimeExceeded(cpu)) {
        rq.rtThrottled = true;
        this.k.trace?.instant(cpu, "sched_rt_runtime_exceeded: RT throttling activated", this.k.engine.now);
        this.reschedCurr(cpu, from);
      }
      return;
    }
    let nrCfs = 0;
    const tasks = rq.tasks;
    for (let i = 0; i < tasks.length; i++) if (!isRt(tasks[i]!)) nrCfs++;
    if (nrCfs < 2) return;
    const slice = Math.max(this.latencyNs / nrCfs, this.minGranularityNs);
    const ran = t.sumExec - t.sliceStart;
    if (ran > slice) this.reschedCurr(cpu, from);
  }

  /** rt_rq->rt_runtime of `cpu`: sched_rt_runtime_us, moved between CPUs by RT_RUNTIME_SHARE. */
  private rtRuntimeOf(cpu: number): Nanoseconds {
    const r = this.rtRuntime[cpu]!;
    return r < 0 ? this.k.params.schedRtRuntimeNs : r;
  }

  /** sched_rt_runtime_exceeded() (kernel/sched/rt.c): after balance_runtime(), is rt_time over rt_runtime? */
  private rtRuntimeExceeded(cpu: number): boolean {
    const k = this.k;
    const rq = this.rqs[cpu]!;
    const period = k.params.schedRtPeriodNs;
    if (k.params.schedRtRuntimeNs < 0 || rq.rtThrottled) return false;
    if (this.rtRuntimeOf(cpu) >= period) return false;
    if (k.params.rtRuntimeShare && rq.rtTime > this.rtRuntimeOf(cpu)) this.doBalanceRuntime(cpu);
    return rq.rtTime > this.rtRuntimeOf(cpu);
  }

  /**
   * do_balance_runtime() (kernel/sched/rt.c, RT_RUNTIME_SHARE): borrow 1/n of every other rt_rq's
   * spare runtime in the root domain (isolcpus=domain CPUs share def_root_domain), up to the period.
   */
  private doBalanceRuntime(cpu: number): void {
    const k = this.k;
    const period = k.params.schedRtPeriodNs;
    const inDomain = k.hk.domain.has(cpu);
    let weight = 0;
    for (let i = 0; i < k.nrCpus; i++) if (k.hk.domain.has(i) === inDomain) weight++;
    let mine = this.rtRuntimeOf(cpu);
    for (let i = 0; i < k.nrCpus; i++) {
      if (i === cpu || k.hk.domain.has(i) !== inDomain) continue;
      const theirs = this.rtRuntimeOf(i);
      let diff = theirs - this.rqs[i]!.rtTime;
      if (diff <= 0) continue;
      diff = Math.floor(diff / weight);
      if (mine + diff > period) diff = period - mine;
      this.rtRuntime[i] = theirs - diff;
      mine += diff;
      if (mine === period) break;
    }
    this.rtRuntime[cpu] = mine;
  }

  /** sched_rt_period_timer() → do_sched_rt_period_timer(): replenish RT runtime of every CPU and unthrottle. */
  private rtPeriodTimer(): void {
    const k = this.k;
    for (let cpu = 0; cpu < k.nrCpus; cpu++) {
      const rq = this.rqs[cpu]!;
      if (rq.rtTime === 0 && !rq.rtThrottled) continue;
      const runtime = this.rtRuntimeOf(cpu);
      rq.rtTime = Math.max(0, rq.rtTime - runtime);
      if (rq.rtThrottled && rq.rtTime < runtime) {
        rq.rtThrottled = false;
        this.reschedCurr(cpu, k.bootCpu);
      }
    }
    k.engine.schedule(k.engine.now + k.params.schedRtPeriodNs, this.kRtPeriod, k.bootCpu, 0, EventPriority.timer);
  }
}
