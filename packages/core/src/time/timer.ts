import type { Nanoseconds } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { NO_SOURCE } from "../accounting/sources.js";
import { SOFTIRQ_TIMER } from "./tick-sched.js";

/** A timer_list: a callback run from the timer softirq of its CPU once its expiry has passed. */
export interface TimerList {
  /** Name shown in traces (the callback's kernel name, e.g. `vmstat_update`). */
  readonly name: string;
  /** The callback (runs in softirq context on the timer's CPU). */
  readonly fn: () => void;
  /** TIMER_DEFERRABLE: ignored when choosing the next tick of an idle/tickless CPU. */
  readonly deferrable: boolean;
  /** Absolute expiry (a jiffy boundary), ns. */
  expires: Nanoseconds;
  /** CPU whose base holds it, or -1 when not pending. */
  cpu: number;
}

/** Creates a timer_list (timer_setup()). */
export function timerSetup(name: string, fn: () => void, deferrable = false): TimerList {
  return { name, fn, deferrable, expires: 0, cpu: -1 };
}

/** Per-CPU timer wheels, reduced to sorted lists (kernel/time/timer.c). */
export class TimerBases {
  private readonly bases: TimerList[][];

  constructor(private readonly k: Kernel) {
    this.bases = Array.from({ length: k.nrCpus }, () => []);
    k.irq.openSoftirq(SOFTIRQ_TIMER, { name: "TIMER", source: NO_SOURCE, costNs: k.params.timerSoftirqNs, action: (cpu) => this.runExpired(cpu, k.engine.now) });
  }

  /** Whether the timer is pending (timer_pending()). */
  pending(t: TimerList): boolean {
    return t.cpu >= 0;
  }

  /** Jiffy boundary at or after `delay` ns from now (jiffies-based expiry). */
  jiffyAligned(at: Nanoseconds): Nanoseconds {
    const p = this.k.tickPeriod;
    return Math.ceil(at / p) * p;
  }

  /** Queues or re-queues the timer on `cpu` to expire at `expires` (add_timer_on()/mod_timer()). */
  addOn(t: TimerList, cpu: number, expires: Nanoseconds): void {
    if (t.cpu >= 0) this.del(t);
    t.expires = this.jiffyAligned(expires);
    t.cpu = cpu;
    const base = this.bases[cpu]!;
    let i = base.length;
    while (i > 0 && base[i - 1]!.expires > t.expires) i--;
    base.splice(i, 0, t);
    if (!t.deferrable) this.k.tick.timerAdded(cpu, t.expires);
  }

  /** Removes a pending timer (del_timer()); returns whether it was pending. */
  del(t: TimerList): boolean {
    if (t.cpu < 0) return false;
    const base = this.bases[t.cpu]!;
    const i = base.indexOf(t);
    if (i >= 0) base.splice(i, 1);
    t.cpu = -1;
    return true;
  }

  /** Whether any timer of `cpu` has expired by `now` (run_local_timers() raising TIMER_SOFTIRQ). */
  hasExpired(cpu: number, now: Nanoseconds): boolean {
    const b = this.bases[cpu]!;
    return b.length > 0 && b[0]!.expires <= now;
  }

  /** Runs every expired timer of `cpu` in expiry order (run_timer_softirq() → __run_timers()). */
  runExpired(cpu: number, now: Nanoseconds): void {
    const b = this.bases[cpu]!;
    while (b.length > 0 && b[0]!.expires <= now) {
      const t = b.shift()!;
      t.cpu = -1;
      this.k.trace?.instant(cpu, `timer_expire_entry: ${t.name}`, now);
      t.fn();
    }
  }

  /** Expiry of the earliest non-deferrable timer of `cpu`, or Infinity (get_next_timer_interrupt()). */
  nextNonDeferrable(cpu: number): Nanoseconds {
    for (const t of this.bases[cpu]!) if (!t.deferrable) return t.expires;
    return Infinity;
  }
}
