import type { Nanoseconds } from "../engine/engine.js";
import type { Task } from "../sched/task.js";

/** The context a CPU executes in at an instant. */
export const Context = {
  /** Running a user task in user mode. */
  user: 0,
  /** Running kernel code at task level (syscall, fault, kthread). */
  kernel: 1,
  /** In a hard interrupt handler. */
  irq: 2,
  /** Running softirqs on interrupt exit. */
  softirq: 3,
  /** In the idle loop. */
  idle: 4,
} as const;

/** One of {@link Context}'s values. */
export type ContextId = (typeof Context)[keyof typeof Context];

/** Context-tracking states in the low bits of the word (include/linux/context_tracking_state.h, 6.x). */
export const CtState = {
  /** CT_STATE_KERNEL: in the kernel (syscall, fault, interrupt, kthread). */
  kernel: 0,
  /** CT_STATE_IDLE: in the idle loop (an extended quiescent state). */
  idle: 1,
  /** CT_STATE_USER: in user mode on a nohz_full CPU (an extended quiescent state). */
  user: 2,
  /** CT_STATE_GUEST: running a guest. */
  guest: 3,
} as const;

/** Mask of the state bits of the context-tracking word. */
export const CT_STATE_MASK = 0x3;
/** Shift of the deferred-work bits (CT_WORK_*, the 2016 idea / Schneider series). */
export const CT_WORK_SHIFT = 2;
/** Mask of the deferred-work bits. */
export const CT_WORK_MASK = 0xc;
/** Increment of the RCU-watching counter above the state and work bits (CT_RCU_WATCHING). */
export const CT_RCU_WATCHING = 0x10;

/**
 * A unit of work a CPU executes for a duration: kernel code of a task, or an interrupt handler.
 * Segments are preempted by interrupts and resumed with their remaining time.
 */
export interface Segment {
  /** Remaining duration, ns. */
  ns: Nanoseconds;
  /** Name shown in traces (kernel function or event name). */
  name: string;
  /** Context the segment runs in (kernel for task level, irq/softirq for interrupt level). */
  ctx: ContextId;
  /** Interruption source counted when it starts, or -1. */
  source: number;
  /** True when this is the user task's own work (its syscall), not noise. */
  own: boolean;
  /**
   * Effect when the segment starts (e.g. the handler's state change); called with the segment, on
   * its CPU (`kernel.executingCpu`), so one function can serve every CPU (see {@link Segment.arg}).
   */
  start: ((seg: Segment) => void) | null;
  /** Effect when the segment completes. */
  end: (() => void) | null;
  /** A number for {@link Segment.start} (e.g. the tick's keep reason), so it needs no closure per event; 0 by default. */
  arg: number;
  /** CPU that caused it (IPI sender) or -1: a flow arrow in traces. */
  causeCpu: number;
  /** Time the cause happened (IPI send), for flow arrows. */
  causeTime: Nanoseconds;
  /** Set once started. */
  startedAt: Nanoseconds;
}

/** Creates a segment. */
export function segment(
  name: string,
  ns: Nanoseconds,
  ctx: ContextId,
  opts?: Partial<Pick<Segment, "source" | "own" | "start" | "end" | "causeCpu" | "causeTime" | "arg">>,
): Segment {
  if (opts === undefined) return new SegmentObject(name, ns, ctx, -1, false, null, null, -1, 0, 0);
  return new SegmentObject(
    name,
    ns,
    ctx,
    opts.source ?? -1,
    opts.own ?? false,
    opts.start ?? null,
    opts.end ?? null,
    opts.causeCpu ?? -1,
    opts.causeTime ?? 0,
    opts.arg ?? 0,
  );
}

/** Creates a segment without an options object (hot paths: one allocation per event). */
export function segmentOf(
  name: string,
  ns: Nanoseconds,
  ctx: ContextId,
  source: number,
  own: boolean,
  start: ((seg: Segment) => void) | null,
  end: (() => void) | null,
  arg: number,
): Segment {
  return new SegmentObject(name, ns, ctx, source, own, start, end, -1, 0, arg);
}

/** The one shape of every {@link Segment} (a class, so all segments share one hidden class). */
class SegmentObject implements Segment {
  startedAt: Nanoseconds = -1;
  /** Made by a {@link SegmentPool}: given back to it when it completes. */
  pooled = false;
  constructor(
    public name: string,
    public ns: Nanoseconds,
    public ctx: ContextId,
    public source: number,
    public own: boolean,
    public start: ((seg: Segment) => void) | null,
    public end: (() => void) | null,
    public causeCpu: number,
    public causeTime: Nanoseconds,
    public arg: number,
  ) {}
}

/** Most completed segments a {@link SegmentPool} keeps for reuse. */
const POOL_LIMIT = 64;

/**
 * Segments reused after they complete, for the executor's own entry/exit segments, softirqs and the
 * tick: no allocation per event. Only segments that nothing references after their completion may
 * come from here (a trace sink copies what it needs from a completed segment).
 */
export class SegmentPool {
  private readonly free: SegmentObject[] = [];

  /** A segment like {@link segmentOf}'s, taken from the pool when one is free. */
  take(
    name: string,
    ns: Nanoseconds,
    ctx: ContextId,
    source: number,
    own: boolean,
    start: ((seg: Segment) => void) | null,
    end: (() => void) | null,
    arg: number,
  ): Segment {
    const seg = this.free.pop();
    if (seg === undefined) {
      const made = new SegmentObject(name, ns, ctx, source, own, start, end, -1, 0, arg);
      made.pooled = true;
      return made;
    }
    seg.name = name;
    seg.ns = ns;
    seg.ctx = ctx;
    seg.source = source;
    seg.own = own;
    seg.start = start;
    seg.end = end;
    seg.arg = arg;
    seg.causeCpu = -1;
    seg.causeTime = 0;
    seg.startedAt = -1;
    return seg;
  }

  /** Gives a completed segment back if it came from a pool (others are left to the garbage collector). */
  give(seg: Segment): void {
    if ((seg as SegmentObject).pooled && this.free.length < POOL_LIMIT) this.free.push(seg as SegmentObject);
  }
}

/** What a {@link Cpu} reads the current time from (the engine). */
export interface CpuClock {
  /** Current simulated time, ns. */
  readonly now: Nanoseconds;
}

/** A clock that stands at 0, for CPUs made outside a kernel. */
const STOPPED_CLOCK: CpuClock = { now: 0 };

/** Slots per CPU in the times array a machine shares: runningSince, userSince, noiseSince, ctCounterSince. */
export const CPU_TIME_SLOTS = 4;

/** The state of one simulated CPU (its context, current task, interrupt state, context-tracking word). */
export class Cpu {
  /** Context now. */
  ctx: ContextId = Context.idle;
  /** The task at task level, or null for the idle task. */
  curr: Task | null = null;
  /** True while interrupt-level segments run (interrupts disabled). */
  inIrq = false;
  /** Interrupt-level segments waiting or running, FIFO. */
  readonly irqQueue: Segment[] = [];
  /** Segment now executing (task or interrupt level). */
  running: Segment | null = null;
  /** Engine handle of the running segment's completion. */
  runningEvent = 0;
  /** True while the executor is deciding what this CPU runs next (guards re-entry). */
  dispatching = false;
  /** TIF_NEED_RESCHED of the current task. */
  needResched = false;
  /** Pending softirq bits (raise_softirq). */
  softirqPending = 0;
  /** Context that the first interrupt of the current interrupt frame interrupted. */
  interruptedCtx: ContextId = Context.idle;
  /** Context-tracking word: counter above, deferred work bits, state bits (kernel/context_tracking.c). */
  ctWord: number = CtState.idle;
  /** First interruption source of the current noise interval (trace label). */
  noiseFirstSource = -1;
  /** Depth of task-level code running with interrupts disabled (exit_to_user_mode_prepare()); might_sleep() there is a bug. */
  irqsDisabled = 0;

  constructor(
    /** CPU number. */
    readonly id: number,
    /** True when the CPU is in nohz_full. */
    readonly nohzFull: boolean,
    /** Where runningSince, userSince, noiseSince and ctCounterSince live ({@link CPU_TIME_SLOTS} each; a machine shares one array; by default the CPU's own). */
    private readonly times: Float64Array = new Float64Array(CPU_TIME_SLOTS),
    /** Index of runningSince in `times`. */
    private readonly at = 0,
    /** Where the time of a context-tracking transition is read (the engine). */
    private readonly clock: CpuClock = STOPPED_CLOCK,
  ) {
    times[at] = 0;
    times[at + 1] = -1;
    times[at + 2] = -1;
    times[at + 3] = 0;
  }

  /** When the running segment (re)started. */
  get runningSince(): Nanoseconds {
    return this.times[this.at]!;
  }

  /** Sets when the running segment (re)started. */
  set runningSince(v: Nanoseconds) {
    this.times[this.at] = v;
  }

  /** Start of the current user-mode run (trace slices), or -1. */
  get userSince(): Nanoseconds {
    return this.times[this.at + 1]!;
  }

  /** Sets the start of the current user-mode run. */
  set userSince(v: Nanoseconds) {
    this.times[this.at + 1] = v;
  }

  /** Start of the current noise interval, or -1. */
  get noiseSince(): Nanoseconds {
    return this.times[this.at + 2]!;
  }

  /** Sets the start of the current noise interval. */
  set noiseSince(v: Nanoseconds) {
    this.times[this.at + 2] = v;
  }

  /** When the RCU-watching counter of the context-tracking word last changed (a transition or a remote increment), ns. */
  get ctCounterSince(): Nanoseconds {
    return this.times[this.at + 3]!;
  }

  /** Context-tracking state bits (CT_STATE_*). */
  ctState(): number {
    return this.ctWord & CT_STATE_MASK;
  }

  /** Whether RCU sees this CPU in an extended quiescent state (idle, or user on nohz_full). */
  inEqs(): boolean {
    const s = this.ctWord & CT_STATE_MASK;
    return s === CtState.idle || s === CtState.user;
  }

  /**
   * Moves the context-tracking word to `state`, bumping the RCU-watching counter, and returns the
   * deferred-work bits it held (cleared). Models ct_kernel_enter()/ct_user_enter() atomic updates.
   */
  ctTransition(state: number): number {
    const old = this.ctWord;
    const work = (old & CT_WORK_MASK) >> CT_WORK_SHIFT;
    const counter = old - (old & 0xf);
    this.ctWord = counter + CT_RCU_WATCHING + state;
    this.times[this.at + 3] = this.clock.now;
    return work;
  }

  /**
   * Return to user mode: context_tracking_enter(CONTEXT_USER) → rcu_user_enter(), on a nohz_full CPU
   * only — 4.9 __context_tracking_enter() does nothing unless context_tracking.active, which
   * context_tracking_cpu_set() sets for nohz_full CPUs alone (kernel/context_tracking.c:70,
   * kernel/time/tick-sched.c tick_nohz_init()). A housekeeping CPU's word stays in the kernel state
   * and its RCU counter does not move: RCU learns of its user time from the tick
   * (rcu_check_callbacks(cpu, user)).
   */
  ctUserEnter(): void {
    if (this.nohzFull) this.ctTransition(CtState.user);
  }

  /** Atomic compare-and-exchange on the context-tracking word, as a remote CPU does; true on success. */
  ctCmpxchg(expected: number, value: number): boolean {
    if (this.ctWord !== expected) return false;
    this.ctWord = value;
    if (value - (value & 0xf) !== expected - (expected & 0xf)) this.times[this.at + 3] = this.clock.now;
    return true;
  }
}
