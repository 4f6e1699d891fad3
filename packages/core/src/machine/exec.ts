import type { Kernel } from "../kernel.js";
import { Context, SegmentPool } from "./cpu.js";
import { EntryKind } from "../arch/x86/entry.js";
import type { Cpu, Segment } from "./cpu.js";
import type { Task } from "../sched/task.js";

/**
 * Executes each CPU: task-level segments, interrupt frames that preempt them, interrupt exit
 * (softirqs, tick_nohz_irq_exit, preemption) and the return to user mode with its hooks
 * (arch/x86/entry/common.c, kernel/softirq.c irq_exit()).
 */
export class CpuExecutor {
  /** Segments reused after completion: the executor's entry/exit segments, softirqs, the tick. */
  readonly segments = new SegmentPool();
  private readonly kDone: number;
  /** Reused list of softirq segments raised outside interrupt context. */
  private readonly softirqScratch: Segment[] = [];

  constructor(private readonly k: Kernel) {
    this.kDone = k.engine.register("segment_done", (cpu) => this.segmentDone(cpu));
  }

  /** An interrupt arrives on `cpu`: it preempts task-level work, or queues behind a running handler. */
  interrupt(cpu: number, seg: Segment): void {
    const k = this.k;
    const c = k.cpus[cpu]!;
    c.irqQueue.push(seg);
    if (c.inIrq) return;
    this.pauseRunning(c);
    c.interruptedCtx = c.ctx;
    c.inIrq = true;
    if (c.ctx === Context.user || c.ctx === Context.idle) {
      seg.ns += k.params.kernelEntryNs;
      seg.ns += this.kernelEntry(c);
    }
    c.ctx = Context.irq;
    this.dispatch(c);
  }

  /** Runs softirqs raised outside interrupt context as an interrupt-level frame (do_softirq()). */
  runSoftirqsNow(cpu: number): void {
    const c = this.k.cpus[cpu]!;
    const pending = this.softirqScratch;
    pending.length = 0;
    this.k.irq.softirqSegments(cpu, pending);
    if (pending.length === 0) return;
    // __do_softirq() runs them in softirq number order: the first arrives as the interrupt, the
    // others queue behind it.
    this.interrupt(cpu, pending[0]!);
    for (let i = 1; i < pending.length; i++) c.irqQueue.push(pending[i]!);
    pending.length = 0;
  }

  /** Kernel entry from user or idle: the ordered entry steps run, context tracking leaves EQS; returns what hooks charged, ns. */
  private kernelEntry(c: Cpu): number {
    const k = this.k;
    if (c.ctx === Context.user) this.closeUserRun(c);
    return k.entry.enter(c.id, EntryKind.interrupt);
  }

  private closeUserRun(c: Cpu): void {
    if (c.userSince >= 0) {
      this.k.trace?.slice(c.id, c.curr?.name ?? "user", "user", c.userSince, this.k.engine.now);
      c.userSince = -1;
    }
  }

  private pauseRunning(c: Cpu): void {
    const seg = c.running;
    if (!seg) return;
    const now = this.k.engine.now;
    seg.ns -= now - c.runningSince;
    if (seg.ns < 0) seg.ns = 0;
    this.k.engine.cancel(c.runningEvent);
    c.running = null;
    c.runningEvent = 0;
  }

  private startSegment(c: Cpu, seg: Segment): void {
    const k = this.k;
    const now = k.engine.now;
    if (seg.startedAt < 0) {
      seg.startedAt = now;
      if (seg.source >= 0) k.accounting.interruption(c.id, seg.source, now);
      const start = seg.start;
      // Without a start effect nothing can have changed: the segment runs now.
      if (start !== null) {
        const prev = k.executingCpu;
        k.executingCpu = c.id;
        start(seg);
        k.executingCpu = prev;
        const irqLevel = seg.ctx === Context.irq || seg.ctx === Context.softirq;
        if (c.running || c.inIrq !== irqLevel) return;
        // The start effect put work in front of the segment (e.g. a spinlock wait): that runs first.
        if ((irqLevel ? c.irqQueue[0] : c.curr?.segs[0]) !== seg) return;
      }
    }
    c.ctx = seg.ctx;
    c.running = seg;
    c.runningSince = now;
    c.runningEvent = k.engine.schedule(now + seg.ns, this.kDone, c.id);
    k.accounting.update(c);
  }

  private segmentDone(cpu: number): void {
    const k = this.k;
    const c = k.cpus[cpu]!;
    const seg = c.running;
    if (!seg) return;
    const now = k.engine.now;
    c.running = null;
    c.runningEvent = 0;
    // shift() keeps an array's capacity: the backing store of an emptied queue is given back
    // (length = 0) when the CPU leaves it, at irq exit, return to user mode or the task's sleep.
    const q = c.inIrq ? c.irqQueue : c.curr ? c.curr.segs : null;
    const head = q ? q.shift() : undefined;
    seg.ns = 0;
    k.trace?.segment(cpu, seg, now);
    if (seg.end) {
      const prev = k.executingCpu;
      k.executingCpu = cpu;
      seg.end();
      k.executingCpu = prev;
    }
    if (head === seg) this.segments.give(seg);
    this.dispatch(c);
  }

  /** Decides what `c` executes next, at the current instant; re-entrant calls defer to the outer one. */
  dispatch(c: Cpu): void {
    if (c.dispatching) return;
    c.dispatching = true;
    try {
      this.dispatchLoop(c);
    } finally {
      c.dispatching = false;
    }
  }

  private dispatchLoop(c: Cpu): void {
    const k = this.k;
    for (let guard = 0; guard < 10000; guard++) {
      if (c.running) return;
      if (c.inIrq) {
        const next = c.irqQueue[0];
        if (next) {
          this.startSegment(c, next);
          continue;
        }
        if (c.softirqPending) {
          k.irq.softirqSegments(c.id, c.irqQueue);
          continue;
        }
        this.irqExit(c);
        continue;
      }
      if (c.needResched) {
        k.sched.schedule(c.id);
        continue;
      }
      const t = c.curr;
      if (!t) {
        this.enterIdle(c);
        return;
      }
      const seg = t.segs[0];
      if (seg) {
        this.startSegment(c, seg);
        continue;
      }
      if (!t.user) {
        if (t.onIdle) {
          const prev = k.executingCpu;
          k.executingCpu = c.id;
          t.onIdle(t);
          k.executingCpu = prev;
          if (t.segs.length > 0) continue;
        }
        t.segs.length = 0;
        k.sched.sleep(t);
        continue;
      }
      if (c.ctx === Context.user) return;
      if (!t.returning) {
        t.returning = true;
        const own = c.noiseSince < 0;
        const prev = k.executingCpu;
        k.executingCpu = c.id;
        c.irqsDisabled++;
        for (const h of k.hooks.exitToUserMode) h(c.id, t);
        c.irqsDisabled--;
        k.executingCpu = prev;
        t.segs.push(this.segments.take("exit_to_user_mode", k.params.kernelExitNs, Context.kernel, -1, own, null, null, 0));
        continue;
      }
      this.enterUser(c, t);
      continue;
    }
    throw new Error(`cpu ${c.id}: dispatch did not settle at ${k.engine.now} ns (model loop)`);
  }

  private irqExit(c: Cpu): void {
    const k = this.k;
    c.inIrq = false;
    c.irqQueue.length = 0;
    c.ctx = c.interruptedCtx === Context.idle ? Context.idle : Context.kernel;
    const prev = k.executingCpu;
    k.executingCpu = c.id;
    for (const h of k.hooks.irqExit) h(c.id);
    k.tick.irqExit(c.id);
    k.executingCpu = prev;
    if (c.ctx === Context.idle && (c.needResched || c.curr !== null)) c.ctx = Context.kernel;
    if (c.ctx === Context.idle) {
      k.entry.exitToIdle(c.id);
      k.accounting.update(c);
    }
  }

  private enterIdle(c: Cpu): void {
    if (c.ctx === Context.idle) return;
    c.ctx = Context.idle;
    this.k.entry.exitToIdle(c.id);
    for (const h of this.k.hooks.idleEnter) h(c.id);
    this.k.tick.idleEnter(c.id);
    this.k.accounting.update(c);
  }

  private enterUser(c: Cpu, t: Task): void {
    const k = this.k;
    t.returning = false;
    t.segs.length = 0;
    c.ctx = Context.user;
    k.entry.exitToUser(c.id);
    c.userSince = k.engine.now;
    k.accounting.update(c);
    const pending = t.pendingEntries.shift();
    if (pending) pending();
  }

  /** Enters the kernel from user mode for the current user task's own syscall or fault, `seg` its body. */
  enterFromUser(cpu: number, seg: Segment): boolean {
    const k = this.k;
    const c = k.cpus[cpu]!;
    const t = c.curr;
    if (!t || !t.user || c.ctx !== Context.user || c.inIrq || c.running) return false;
    this.closeUserRun(c);
    const charged = k.entry.enter(cpu, EntryKind.syscall);
    c.ctx = Context.kernel;
    t.segs.push(this.segments.take("syscall_entry", k.params.kernelEntryNs + charged, Context.kernel, -1, true, null, null, 0), seg);
    this.dispatch(c);
    return true;
  }
}
